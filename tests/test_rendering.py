"""What every front end prints the same way: a run's problem, the summary, remote text."""

from __future__ import annotations

from pytest_qatech.core.models import (
    FinishedRun,
    Link,
    Outcome,
    RemoteCase,
    RunReport,
    RunSnapshot,
    RunSoFar,
    UnreadableRun,
)
from pytest_qatech.core.rendering import case_link, render_case, render_problem, summary_lines
from pytest_qatech.core.text import visible


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
