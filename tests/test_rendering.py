"""What every front end prints the same way: a run's problem, the summary, remote text."""

from __future__ import annotations

import dataclasses

from pytest_qatech.core.models import (
    Attempt,
    FinishedRun,
    Link,
    Outcome,
    RemoteCase,
    RunReport,
    RunSnapshot,
    RunSoFar,
    StartedRun,
    Step,
    UnreadableRun,
)
from pytest_qatech.core.rendering import (
    TraceStyle,
    attempt_lines,
    case_link,
    no_verdict,
    render_case,
    render_problem,
    summary_lines,
    trace_text,
    unread,
)
from pytest_qatech.core.text import visible

#: Every step read, each text whole.
WHOLE = TraceStyle(None, None)


def test_a_run_that_ended_badly() -> None:
    run = FinishedRun(
        "qatech", "abc", "ERROR", None, (RemoteCase("a", Outcome.PASSED),), "ended ERROR"
    )
    assert render_problem(run).text == "ended ERROR\n\nThe run reported 1 case: 1 passed."
    empty = FinishedRun("qatech", "abc", "CANCELLED", None, (), "ended CANCELLED")
    assert render_problem(empty).text == "ended CANCELLED\n\nThe run reported 0 cases."
    unreadable = UnreadableRun("qatech", "abc", "did not finish in time: \x1b still RUNNING")
    assert render_problem(unreadable).text == "did not finish in time: \\x1b still RUNNING"


def test_a_case_links_to_its_page_else_to_its_run() -> None:
    page = RemoteCase("a", Outcome.FAILED, links=(Link("case", "https://case"),))
    plain = RemoteCase("b", Outcome.FAILED)
    run = FinishedRun("qatech", "r1", "COMPLETED", "FAILED", (page, plain), url="https://run")
    assert [case_link(run, case) for case in run.cases] == ["https://case", "https://run"]


def test_a_case_of_a_run_still_going_is_described_from_what_the_run_told_so_far() -> None:
    going = RunSnapshot("autonoma", "r1", "running", "team", url="https://run", label="nightly")
    facts = going.facts()
    assert facts == RunSoFar("autonoma", "r1", "https://run", "team")
    case = RemoteCase("Sign in", Outcome.FAILED, "No button")
    rendered = render_case(facts, case)
    assert ("folder", "team") in rendered.properties
    assert case_link(facts, case) == "https://run"
    ended = FinishedRun("autonoma", "r1", "failed", None, (case,), url="https://run")
    assert RunSnapshot.of(ended).facts() is ended


def test_the_summary_has_a_line_per_run() -> None:
    reports: list[RunReport] = [
        FinishedRun("qatech", "abc", "COMPLETED", "FAILED", (RemoteCase("a", Outcome.FAILED),)),
        FinishedRun("testvibe", "214", "passed", None, (), url="https://tv/214"),
        UnreadableRun("qatech", "gone", "could not be read", "RUNNING\x1b[2J"),
    ]
    assert summary_lines(reports) == [
        "QA.tech run abc: COMPLETED, result FAILED - 1 failed",
        "TestVibe run 214: passed - no cases - https://tv/214",
        "QA.tech run gone: could not be read (last status RUNNING\\x1b[2J); see the error above",
    ]


def test_remote_text_is_spelled_out_newlines_and_tabs_kept() -> None:
    assert visible("a\x1b[31mb\x00\r\n\tc\u2028\x9b") == "a\\x1b[31mb\\x00\\r\n\tc\\u2028\\x9b"
    assert visible(visible("\x07")) == "\\x07"


def test_a_case_s_words_are_visible_whatever_the_platform_sent() -> None:
    case = RemoteCase("a", Outcome.FAILED, "bad\x00title", "esc \x1b\x0b\x0c end", case_id="c")
    run = FinishedRun("qatech", "abc", "COMPLETED", "FAILED", (case,))
    rendered = render_case(run, case)
    assert rendered.headline == "bad\\x00title"
    assert rendered.details.startswith("esc \\x1b\\x0b\\x0c end\n\n")


def test_the_run_summary_says_timed_out_and_counts_errors_as_pytest_does() -> None:
    error = RemoteCase("x", Outcome.ERROR, "no verdict")
    runs: list[RunReport] = [
        UnreadableRun("qatech", "slow", "…", "RUNNING", timed_out=True),
        UnreadableRun("qatech", "gone", "HTTP 404", "RUNNING"),
        FinishedRun("qatech", "bad", "ERROR", None, (error, error, RemoteCase("y", Outcome.ERROR))),
        FinishedRun("qatech", "one", "ERROR", None, (error,)),
    ]
    assert summary_lines(runs) == [
        "QA.tech run slow: did not finish in time (last status RUNNING); see the error above",
        "QA.tech run gone: could not be read (last status RUNNING); see the error above",
        "QA.tech run bad: ERROR - 3 errors",
        "QA.tech run one: ERROR - 1 error",
    ]


def test_the_summary_names_reruns_starts_that_failed_and_an_unknown_status() -> None:
    case = (RemoteCase("a", Outcome.PASSED),)
    once = FinishedRun("qatech", "abc", "COMPLETED", "PASSED", case, reruns=(StartedRun("r1"),))
    twice = dataclasses.replace(once, run_id="def", reruns=(StartedRun("r2"), StartedRun("r3")))
    refused = UnreadableRun("qatech", "pln_x", "HTTP 402", start_of="test plan pln_x")
    maybe = dataclasses.replace(refused, run_id="default-plan", start_of="the default test plan",
                                maybe_started=True)  # fmt: skip
    silent = UnreadableRun("qatech", "ghi", "could not be read")
    assert summary_lines([once, twice, refused, maybe, silent]) == [
        "QA.tech run abc: COMPLETED, result PASSED - 1 passed (after 1 rerun: r1)",
        "QA.tech run def: COMPLETED, result PASSED - 1 passed (after 2 reruns: r2, r3)",
        "QA.tech: no run of test plan pln_x was started; see the error above",
        "QA.tech: starting a run of the default test plan failed, and one may have started all "
        "the same; see the error above",
        "QA.tech run ghi: could not be read (last status unknown); see the error above",
    ]
    assert unread(refused) == "starting a run of test plan pln_x failed"


def test_a_case_without_a_verdict_says_why_it_will_get_none() -> None:
    assert no_verdict(None) == "no verdict: the wait for its run was stopped"
    assert no_verdict(None, "the wait broke off: boom") == "no verdict: the wait broke off: boom"
    gone = UnreadableRun("qatech", "abc", "did not finish in time")
    assert no_verdict(gone, "ignored") == "no verdict: did not finish in time"


def test_a_run_s_problem_links_to_the_run() -> None:
    run = FinishedRun("qatech", "r1", "ERROR", None, (), "ended ERROR", url="https://run")
    assert case_link(run, None) == "https://run"


def test_each_attempt_is_a_line_its_headline_only_where_it_has_one() -> None:
    first = Attempt("abc", Outcome.ERROR, "")
    case = RemoteCase("a", Outcome.FAILED, "No button", key="k", attempts=(first,))
    run = FinishedRun("qatech", "abc", "COMPLETED", "FAILED", (case,), reruns=(StartedRun("r1"),))
    assert attempt_lines(run, case) == [
        "QA.tech run abc: error",
        "QA.tech run r1: failed: No button",
    ]


STEPS = tuple(
    Step(n, status="failed" if n == 4 else None, intent=f"meant {n}", url=f"/p{n}",
         selector=f"#s{n}", duration=1.5 if n == 4 else None)
    for n in (1, 2, 4)
)  # fmt: skip


def test_a_step_shows_its_status_duration_url_and_selector() -> None:
    text = trace_text(RemoteCase("a", Outcome.FAILED, steps=STEPS[2:], steps_total=4), WHOLE)
    assert text.splitlines() == [
        "Steps: 1 of 4",
        "  ... steps 1 to 3 not read ...",
        "step 4 of 4 (failed, 1.5s)",
        "    meant: meant 4",
        "    url: /p4",
        "    selector: #s4",
    ]


def test_the_last_steps_only_say_what_was_left_out_between_them() -> None:
    case = RemoteCase("a", Outcome.FAILED, steps=STEPS, steps_total=5)
    last_two = trace_text(case, TraceStyle(2, None))
    assert [line for line in last_two.splitlines() if not line.startswith("    ")] == [
        "Steps: the last 2 of 5 (--tb=long shows every step read)",
        "step 2 of 5",
        "  ... step 3 not read ...",
        "step 4 of 5 (failed, 1.5s)",
        "  ... step 5 not read ...",
    ]
    every = trace_text(case, WHOLE)
    assert [line for line in every.splitlines() if not line.startswith("    ")] == [
        "Steps: 3 of 5",
        "step 1 of 5",
        "step 2 of 5",
        "  ... step 3 not read ...",
        "step 4 of 5 (failed, 1.5s)",
        "  ... step 5 not read ...",
    ]


def test_the_last_step_alone() -> None:
    case = RemoteCase("a", Outcome.FAILED, steps=STEPS, steps_total=4)
    assert trace_text(case, TraceStyle(1, None)).splitlines()[:2] == [
        "Steps: the last 1 of 4 (--tb=long shows every step read)",
        "step 4 of 4 (failed, 1.5s)",
    ]


def test_a_section_of_remote_text_is_shown_never_obeyed() -> None:
    case = RemoteCase("Pay", Outcome.FAILED, "broken")
    run = FinishedRun("testvibe", "214", "failed", None, (case,), log="boom\x1b[2J")
    assert render_case(run, case).sections == (("TestVibe run log", "boom\\x1b[2J"),)


def test_under_tb_no_the_summary_points_to_no_error_above() -> None:
    silent = UnreadableRun("qatech", "ghi", "could not be read")
    assert summary_lines([silent], errors_shown=False) == [
        "QA.tech run ghi: could not be read (last status unknown)"
    ]
