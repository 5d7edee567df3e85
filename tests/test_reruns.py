"""Reruns: a run and the reruns of its failed cases as one run, each case judged by its last
attempt; the wait loop that starts them (fake clock); and how attempts are rendered."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence

import pytest

from pytest_qatech.core.client import FinalError, TransientError
from pytest_qatech.core.github import step_summary
from pytest_qatech.core.models import (
    Attempt,
    FinishedRun,
    Outcome,
    RemoteCase,
    RunReport,
    StartedRun,
    Step,
)
from pytest_qatech.core.providers.base import Progress
from pytest_qatech.core.providers.qatech import QatechProvider
from pytest_qatech.core.rendering import render_case, summary_lines
from pytest_qatech.core.reruns import merged, too_flaky
from pytest_qatech.core.secrets import Secret
from pytest_qatech.core.waiting import Chosen

from .helpers import (
    FakeApi,
    FakeClock,
    RecordingListener,
    RecordingStream,
    qatech_case,
    qatech_run,
    wait_on,
)

PROVIDER = QatechProvider(Secret("x"), project="shop", details="none")
RERUN_1 = StartedRun("def456", "https://app.qa.tech/p/shop/results/def456", 2)
#: What failedOnly reruns: every case that did not pass.
AGAIN = PROVIDER.reruns_again


def finished(run_id: str, *cases: RemoteCase, status: str = "COMPLETED") -> FinishedRun:
    result = "FAILED" if any(c.outcome is Outcome.FAILED for c in cases) else "PASSED"
    return FinishedRun("qatech", run_id, status, result, cases)


def failed(name: str, key: str, headline: str, goal: str | None = None) -> RemoteCase:
    return RemoteCase(name, Outcome.FAILED, headline, "why", key=key, case_id=key, goal=goal)


def passed(name: str, key: str, goal: str | None = None) -> RemoteCase:
    return RemoteCase(name, Outcome.PASSED, key=key, case_id=key, goal=goal)


def test_a_case_that_passes_on_the_rerun_passes_and_remembers_its_failure() -> None:
    first = finished("abc123", passed("Login", "tc1"), failed("Checkout", "tc2", "No pay button"))
    again = finished("def456", passed("Checkout", "tc9"))
    run, unmatched = merged(first, again, RERUN_1, AGAIN)
    login, checkout = run.cases
    assert login == passed("Login", "tc1")
    assert checkout.outcome is Outcome.PASSED
    assert checkout.key == "tc2"  # who it is in the run's items
    assert checkout.case_id == "tc9"  # its last attempt's case
    # What that attempt showed stays with it: the JUnit report writes it.
    assert checkout.attempts == (Attempt("abc123", Outcome.FAILED, "No pay button", "why"),)
    assert checkout.flaky
    assert unmatched == []
    assert run.reruns == (RERUN_1,)
    assert (run.status, run.result, run.problem) == ("COMPLETED", "PASSED", None)


def test_a_case_that_fails_every_attempt_keeps_every_headline() -> None:
    first = finished("abc123", failed("Checkout", "tc2", "No pay button"))
    once, _ = merged(
        first, finished("def456", failed("Checkout", "tc8", "Spinner")), RERUN_1, AGAIN
    )
    rerun_2 = StartedRun("ghi789")
    twice, _ = merged(
        once, finished("ghi789", failed("Checkout", "tc7", "Timeout")), rerun_2, AGAIN
    )
    (checkout,) = twice.cases
    assert checkout.outcome is Outcome.FAILED
    assert checkout.headline == "Timeout"
    assert checkout.attempts == (
        Attempt("abc123", Outcome.FAILED, "No pay button", "why"),
        Attempt("def456", Outcome.FAILED, "Spinner", "why"),
    )
    assert not checkout.flaky
    rendered = render_case(twice, checkout)
    assert rendered.details.startswith(
        "3 attempts:\n"
        "  1. QA.tech run abc123: failed: No pay button\n"
        "  2. QA.tech run def456: failed: Spinner\n"
        "  3. QA.tech run ghi789: failed: Timeout\n\n"
    )
    assert [p for p in rendered.properties if p[0].startswith(("attempt", "first", "flaky"))] == [
        ("attempts", "3"),
        ("first_failure", "No pay button"),
        ("attempt_1_run_short_id", "abc123"),
        ("attempt_2_run_short_id", "def456"),
        ("attempt_3_run_short_id", "ghi789"),
    ]


def test_cases_are_matched_by_name_and_goal_in_order_and_the_rest_kept_apart() -> None:
    first = finished(
        "abc123",
        failed("Search", "tc1", "A", goal="by city"),
        failed("Search", "tc2", "B", goal="by price"),
        failed("Search", "tc3", "C", goal="by price"),
    )
    again = finished(
        "def456",
        passed("Search", "tc7", goal="by price"),
        failed("Search", "tc8", "D", goal="by price"),
        passed("Signup", "tc9"),
    )
    run, unmatched = merged(first, again, RERUN_1, AGAIN)
    city, price_1, price_2, signup = run.cases
    assert (city.headline, city.attempts) == ("A", ())  # no rerun matched it: as it was
    assert (price_1.case_id, price_1.outcome) == ("tc7", Outcome.PASSED)
    assert (price_2.case_id, price_2.outcome) == ("tc8", Outcome.FAILED)
    assert unmatched == [passed("Signup", "tc9")]
    assert (signup.name, signup.key, signup.attempts) == ("Signup", "def456/tc9", ())


def test_a_passed_case_is_never_replaced_and_the_rerun_has_the_last_word_on_the_run() -> None:
    first = finished(
        "abc123", passed("Login", "tc1"), failed("Pay", "tc2", "x"), status="CANCELLED"
    )
    again = finished("def456", passed("Login", "tc5"), failed("Pay", "tc6", "y"))
    again = FinishedRun("qatech", "def456", "ERROR", "FAILED", again.cases, problem="ended ERROR")
    run, unmatched = merged(first, again, RERUN_1, AGAIN)
    assert run.cases[0] == passed("Login", "tc1")
    assert [case.key for case in unmatched] == ["tc5"]
    assert (run.status, run.problem) == ("ERROR", "ended ERROR")


def test_flaky_cases_have_a_section_in_the_summary_and_the_job_summary() -> None:
    first = finished("abc123", failed("Checkout", "tc2", "No pay button"))
    run, _ = merged(first, finished("def456", passed("Checkout", "tc9")), RERUN_1, AGAIN)
    run = dataclasses.replace(run, url=None)
    assert summary_lines([run]) == [
        "QA.tech run abc123: COMPLETED, result PASSED - 1 passed (after 1 rerun: def456)",
        "flaky (failed, then passed on a rerun): 1",
        "  Checkout (QA.tech run abc123): failed in abc123: No pay button",
    ]
    properties = dict(render_case(run, run.cases[0]).properties)
    assert (properties["attempts"], properties["flaky"]) == ("2", "true")
    summary = step_summary([run], [])
    assert (
        "### Flaky: failed, then passed on a rerun\n\n"
        "| test | run | first failure |\n"
        "| --- | --- | --- |\n"
        "| 🔁 Checkout | QA.tech abc123 | abc123: No pay button |\n"
    ) in summary
    assert "| QA.tech abc123 | COMPLETED, PASSED | 1 passed (reruns: def456) |" in summary


# The wait loop.

STARTED_DEF = {"success": True, "run": {"id": "u", "shortId": "def456", "testCount": 1}}


def wait_for(
    api: FakeApi, reruns: int, stream: RecordingStream | None = None
) -> tuple[list[RunReport], RecordingListener]:
    """The wait for run abc123, with listing polls, on the API's fake clock."""
    observer = RecordingListener()
    reports = wait_on(
        api,
        PROVIDER,
        ["abc123"],
        say=observer,
        stream=stream,
        rng=random.Random(1),
        listing=True,
        reruns=reruns,
    )
    return reports, observer


def run_with(
    api: FakeApi, reruns: int, stream: RecordingStream | None = None
) -> tuple[RunReport, RecordingListener]:
    (report,), observer = wait_for(api, reruns, stream)
    return report, observer


def scripted(reruns: dict[str, Sequence[object]], **polls: Sequence[object]) -> FakeApi:
    return FakeApi(FakeClock(), polls, reruns=reruns, listing=True)


def first_run(*cases: object, status: str = "COMPLETED") -> list[object]:
    return [
        qatech_run("abc123", "RUNNING", list(cases), None),
        qatech_run("abc123", status, list(cases), "FAILED"),
    ]


LOGIN = qatech_case("Login", short_id="tc1")
CHECKOUT_FAILED = qatech_case("Checkout", "FAILED", short_id="tc2", title="No pay button")


def test_without_reruns_nothing_is_posted() -> None:
    api = scripted({}, abc123=first_run(LOGIN, CHECKOUT_FAILED))
    report, _ = run_with(api, reruns=0)
    assert isinstance(report, FinishedRun)
    assert "rerun" not in [kind for _, kind, _ in api.log]


def test_verdicts_of_one_answer_are_told_together() -> None:
    # A front end reports cases decided at one moment in its own order, not in the order the
    # loop happened to tell them.
    going = qatech_case("Search", None, status="RUNNING", short_id="tc3")
    ended = qatech_case("Search", short_id="tc3")
    api = scripted(
        {},
        abc123=[
            qatech_run("abc123", "RUNNING", [LOGIN, CHECKOUT_FAILED, going], None),
            qatech_run("abc123", "COMPLETED", [LOGIN, CHECKOUT_FAILED, ended], "FAILED"),
        ],
    )
    stream = RecordingStream(api.clock)
    run_with(api, reruns=0, stream=stream)
    assert stream.moments == [["tc1", "tc2"], ["tc3"]]


def test_a_run_no_longer_wanted_is_polled_no_more() -> None:
    going = qatech_case("Login", None, status="RUNNING", short_id="tc1")
    api = scripted({}, abc123=[qatech_run("abc123", "RUNNING", [going], None)])

    class LetGoAfterListing(RecordingStream):
        def progressed(self, run: tuple[str, str], progress: Progress) -> None:
            super().progressed(run, progress)
            self.unwanted.add(run[1])

    reports, _ = wait_for(api, 0, LetGoAfterListing(api.clock))
    # One poll, no report, and no time spent: the run was never polled towards its end.
    assert (api.made("poll"), reports, api.clock.time) == (["abc123"], [], 1000.0)


def test_the_failed_cases_are_rerun_and_the_verdicts_held_until_the_last_attempt() -> None:
    api = scripted(
        {"abc123": [STARTED_DEF]},
        abc123=first_run(LOGIN, CHECKOUT_FAILED),
        def456=[qatech_run("def456", "COMPLETED", [qatech_case("Checkout", short_id="tc9")])],
    )
    stream = RecordingStream(api.clock)
    report, observer = run_with(api, reruns=2, stream=stream)
    assert [kind for _, kind, _ in api.log] == ["poll", "poll", "rerun", "poll"]
    assert isinstance(report, FinishedRun)
    checkout = report.cases[1]
    assert checkout.flaky
    assert checkout.key == "tc2"
    # The pass was told at once; the failure never was, as the rerun turned it; the rerun's own
    # cases were never listed as the run's.
    assert stream.events == [
        "0 RUNNING tc1=passed tc2",
        "0 tc1 passed",
        "10 COMPLETED ",
        "10 COMPLETED tc1=passed tc2",
        "10 ended FinishedRun",
    ]
    # A held verdict still has its name; the read says the run has finished.
    assert [case.name for case in stream.heard[-1].cases or ()] == ["Login", "Checkout"]
    assert stream.heard[-1].finished
    assert (
        "QA.tech run abc123 note: 1 case to run again: rerun 1 of 2 started as QA.tech run def456"
    ) in observer.lines
    assert "QA.tech run def456 (rerun 1 of abc123) COMPLETED at 10" not in observer.lines


def test_a_rerun_note_counts_the_cases_and_links_the_new_run() -> None:
    search_failed = qatech_case("Search", "FAILED", short_id="tc3", title="No results")
    started = {"success": True, "run": {"shortId": "def456", "url": "https://app.qa.tech/r/d"}}
    api = scripted(
        {"abc123": [started]},
        abc123=first_run(LOGIN, CHECKOUT_FAILED, search_failed),
        def456=[qatech_run("def456", "COMPLETED", [qatech_case("Checkout", short_id="tc9")])],
    )
    _, observer = run_with(api, reruns=1)
    assert (
        "QA.tech run abc123 note: 2 cases to run again: rerun 1 of 1 started as QA.tech run "
        "def456: https://app.qa.tech/r/d"
    ) in observer.lines


def test_a_rerun_post_unanswered_at_the_timeout_may_have_started_a_run() -> None:
    throttled = TransientError("HTTP 429 Too Many Requests", 3000.0, http_status=429)
    api = scripted({"abc123": [throttled]}, abc123=first_run(LOGIN, CHECKOUT_FAILED))
    report, observer = run_with(api, reruns=1)
    assert isinstance(report, FinishedRun)
    assert report.cases[1].outcome is Outcome.FAILED
    assert api.clock.time - 1000.0 == 3600.0  # the wait's timeout
    assert observer.lines[-1] == (
        "QA.tech run abc123 warning: its failed cases could not be rerun, so their verdicts "
        "stand: no answer before the wait's timeout; the request may have reached QA.tech, so "
        "a rerun may have started: look for it at https://app.qa.tech/p/shop"
    )


def test_a_rerun_case_that_matches_no_failure_is_a_case_of_its_own_with_a_warning() -> None:
    again = [
        qatech_case("Checkout", short_id="tc9"),
        qatech_case("Signup", short_id="tc8"),
        qatech_case("Search", short_id="tc7"),
    ]
    api = scripted(
        {"abc123": [STARTED_DEF]},
        abc123=first_run(LOGIN, CHECKOUT_FAILED),
        def456=[qatech_run("def456", "COMPLETED", again)],
    )
    report, observer = run_with(api, reruns=1)
    assert isinstance(report, FinishedRun)
    assert [case.name for case in report.cases] == ["Login", "Checkout", "Signup", "Search"]
    assert observer.lines[-1] == (
        "QA.tech run def456 (rerun 1 of abc123) warning: 2 of its cases match no case that "
        "failed before ('Signup', 'Search'); each is reported as a case of its own"
    )


def test_a_rerun_answered_with_an_unusable_success_may_have_started_one() -> None:
    api = scripted({"abc123": [{"success": False}]}, abc123=first_run(CHECKOUT_FAILED))
    report, observer = run_with(api, reruns=1)
    assert isinstance(report, FinishedRun)
    assert [kind for _, kind, _ in api.log].count("rerun") == 1
    assert observer.lines[-1] == (
        "QA.tech run abc123 warning: its failed cases could not be rerun, so their verdicts "
        "stand: POST https://api.test/v1/run/abc123 gave an unusable answer: the rerun of run "
        "abc123: field 'success' is not true; the request may have reached QA.tech, so a "
        "rerun may have started: look for it at https://app.qa.tech/p/shop"
    )


def test_a_rerun_post_at_the_timeout_leaves_the_other_runs_timed_out_too() -> None:
    throttled = TransientError("HTTP 429 Too Many Requests", 3000.0, http_status=429)
    api = scripted(
        {"abc123": [throttled]},
        abc123=first_run(CHECKOUT_FAILED),
        xyz789=[qatech_run("xyz789", "RUNNING", [], None)],
    )
    reports = wait_on(api, PROVIDER, ["abc123", "xyz789"], listing=True, reruns=1)
    assert [type(report).__name__ for report in reports] == ["FinishedRun", "UnreadableRun"]


class WithoutReruns(QatechProvider):
    """QA.tech's answers from a platform that cannot rerun, as TestVibe and Autonoma cannot."""

    can_rerun = False


class InAFolder(QatechProvider):
    def parse_results(self, run_id: str, body: object) -> FinishedRun:
        return dataclasses.replace(super().parse_results(run_id, body), group="team")


def test_a_platform_that_cannot_rerun_tells_each_verdict_at_once_whatever_reruns_says() -> None:
    api = scripted({}, abc123=first_run(LOGIN, CHECKOUT_FAILED))
    stream = RecordingStream(api.clock)
    provider = WithoutReruns(Secret("x"), project="shop", details="none")
    wait_on(api, provider, ["abc123"], listing=True, stream=stream, reruns=2)
    assert "0 tc2 failed" in stream.events  # told as soon as it was listed with its verdict


def test_the_read_tells_the_run_s_group() -> None:
    api = scripted({}, abc123=first_run(LOGIN))
    stream = RecordingStream(api.clock)
    provider = InAFolder(Secret("x"), project="shop", details="none")
    wait_on(api, provider, ["abc123"], listing=True, stream=stream)
    assert stream.heard[-1].group == "team"


def test_a_rerun_that_fails_again_is_rerun_up_to_the_limit() -> None:
    started_ghi = {"success": True, "run": {"id": "u", "shortId": "ghi789"}}
    failing = qatech_case("Checkout", "FAILED", short_id="tc9", title="Again")
    api = scripted(
        {"abc123": [STARTED_DEF], "def456": [started_ghi]},
        abc123=first_run(CHECKOUT_FAILED),
        def456=[qatech_run("def456", "COMPLETED", [failing], "FAILED")],
        ghi789=[qatech_run("ghi789", "COMPLETED", [failing], "FAILED")],
    )
    report, _ = run_with(api, reruns=2)
    assert [key for _, kind, key in api.log if kind == "rerun"] == ["abc123", "def456"]
    assert isinstance(report, FinishedRun)
    (checkout,) = report.cases
    assert checkout.outcome is Outcome.FAILED
    assert [a.run_id for a in checkout.attempts] == ["abc123", "def456"]
    assert [r.run_id for r in report.reruns] == ["def456", "ghi789"]


def test_a_rerun_post_that_may_have_reached_the_server_is_not_sent_again() -> None:
    api = scripted(
        {"abc123": [TransientError("HTTP 502 Bad Gateway", http_status=502), STARTED_DEF]},
        abc123=first_run(LOGIN, CHECKOUT_FAILED),
    )
    report, observer = run_with(api, reruns=1)
    assert [kind for _, kind, _ in api.log].count("rerun") == 1
    assert isinstance(report, FinishedRun)
    assert report.cases[1].outcome is Outcome.FAILED
    assert report.reruns == ()
    assert observer.lines[-1] == (
        "QA.tech run abc123 warning: its failed cases could not be rerun, so their verdicts "
        "stand: POST https://api.test/v1/run/abc123 failed: HTTP 502 Bad Gateway; the request "
        "may have reached QA.tech, so a rerun may have started: look for it at https://app.qa.tech/p/shop"
    )


def test_a_rerun_post_answered_with_an_unreadable_success_is_not_sent_again() -> None:
    unreadable = FinalError("the answer is not JSON (text/html, 9 bytes): <h1>OK</h1>", 200)
    api = scripted({"abc123": [unreadable, STARTED_DEF]}, abc123=first_run(CHECKOUT_FAILED))
    report, observer = run_with(api, reruns=1)
    assert [kind for _, kind, _ in api.log].count("rerun") == 1
    assert isinstance(report, FinishedRun)
    assert "so a rerun may have started" in observer.lines[-1]


def test_a_throttled_rerun_post_is_sent_again() -> None:
    throttled = TransientError("HTTP 429", retry_after=3.0, http_status=429)
    api = scripted(
        {"abc123": [throttled, STARTED_DEF]},
        abc123=first_run(CHECKOUT_FAILED),
        def456=[qatech_run("def456", "COMPLETED", [qatech_case("Checkout", short_id="tc9")])],
    )
    report, _ = run_with(api, reruns=1)
    assert [kind for _, kind, _ in api.log].count("rerun") == 2
    assert isinstance(report, FinishedRun)
    assert report.cases[0].flaky


def test_nothing_to_rerun_keeps_the_verdicts_with_a_warning() -> None:
    nothing = FinalError('HTTP 400 Bad Request: "No test cases to rerun"', 400)
    api = scripted({"abc123": [nothing]}, abc123=first_run(CHECKOUT_FAILED))
    report, observer = run_with(api, reruns=1)
    assert isinstance(report, FinishedRun)
    assert report.cases[0].outcome is Outcome.FAILED
    assert "may have started" not in observer.lines[-1]
    assert observer.lines[-1].endswith(
        "hint: QA.tech rejected the request (for a rerun: the run may have no failed case left)"
    )


def test_a_rerun_that_cannot_be_read_keeps_the_verdicts_before_it() -> None:
    api = scripted(
        {"abc123": [STARTED_DEF]},
        abc123=first_run(CHECKOUT_FAILED),
        def456=[FinalError('HTTP 404 Not Found: "Run not found"', 404)],
    )
    report, observer = run_with(api, reruns=1)
    assert isinstance(report, FinishedRun)
    assert report.cases[0].outcome is Outcome.FAILED
    assert report.cases[0].headline == "No pay button"
    assert observer.lines[-1] == (
        "QA.tech run def456 (rerun 1 of abc123) warning: QA.tech run def456 (rerun 1 of abc123) "
        "could not be read: GET https://api.test/v1/run/def456 failed: HTTP 404 Not Found: "
        '"Run not found"\nhint: check the run id, and that QATECH_API_TOKEN belongs to the project '
        "that ran it; the verdicts before it stand"
    )


NEWSLETTER_SKIPPED = qatech_case("Newsletter", "SKIPPED", short_id="tc3", title="Flag off")


def test_a_skip_is_held_as_a_failure_is_and_takes_the_reruns_verdict() -> None:
    # failedOnly reruns the skipped case too: reported before the rerun, it would be reported
    # twice, skipped at once and passed in the run's summary.
    api = scripted(
        {"abc123": [STARTED_DEF]},
        abc123=first_run(NEWSLETTER_SKIPPED, CHECKOUT_FAILED),
        def456=[
            qatech_run(
                "def456",
                "COMPLETED",
                [
                    qatech_case("Newsletter", short_id="tc8"),
                    qatech_case("Checkout", short_id="tc9"),
                ],
            )
        ],
    )
    stream = RecordingStream(api.clock)
    report, _ = run_with(api, reruns=1, stream=stream)
    # Neither decided nor listed with a verdict before the run's end.
    assert [e for e in stream.events if e.split()[1] == "tc3" or "tc3=" in e] == []
    assert isinstance(report, FinishedRun)
    newsletter = report.cases[0]
    assert (newsletter.key, newsletter.outcome) == ("tc3", Outcome.PASSED)
    assert newsletter.attempts == (Attempt("abc123", Outcome.SKIPPED, "Flag off"),)
    assert not newsletter.flaky  # it never failed


def test_a_skip_that_a_rerun_fails_fails() -> None:
    again = qatech_case("Newsletter", "FAILED", short_id="tc8", title="Signup broken")
    api = scripted(
        {"abc123": [STARTED_DEF]},
        abc123=first_run(NEWSLETTER_SKIPPED, CHECKOUT_FAILED),
        def456=[qatech_run("def456", "COMPLETED", [again, CHECKOUT_FAILED], "FAILED")],
    )
    report, _ = run_with(api, reruns=1)
    assert isinstance(report, FinishedRun)
    assert [(case.key, case.outcome) for case in report.cases] == [
        ("tc3", Outcome.FAILED),
        ("tc2", Outcome.FAILED),
    ]
    assert "in run def456" in render_case(report, report.cases[0]).details


def test_an_earlier_attempt_keeps_the_steps_it_showed() -> None:
    steps = (Step(1, intent="click pay"),)
    first = dataclasses.replace(failed("Checkout", "tc2", "No pay button"), steps=steps)
    first = dataclasses.replace(first, steps_total=7)
    run, _ = merged(
        finished("abc123", first), finished("def456", passed("Checkout", "tc8")), RERUN_1, AGAIN
    )
    (checkout,) = run.cases
    assert checkout.attempts == (
        Attempt("abc123", Outcome.FAILED, "No pay button", "why", steps, 7),
    )


# --qatech-reruns-only execution: only what the agent or the platform failed to run.

EXECUTION = QatechProvider(
    Secret("x"), project="shop", details="failed", trace_steps=0, reruns_only="execution"
)
AGENT_MISS = qatech_case("Signup", "FAILED", short_id="tc3", title="Timed out")
PRODUCT_FAILURE = CHECKOUT_FAILED


def details(code: str, project_case_id: str | None) -> dict[str, object]:
    return {"errorCode": code, "projectTestCaseId": project_case_id}


def execution_api(misses: dict[str, dict[str, object]], *cases: object) -> FakeApi:
    api = scripted({"abc123": [STARTED_DEF]}, abc123=first_run(LOGIN, *cases))
    api.polls["def456"] = [
        qatech_run("def456", "COMPLETED", [qatech_case("Signup", short_id="tc9")], "PASSED")
    ]
    api.cases = {key: [answer] for key, answer in misses.items()}
    return api


def test_only_execution_misses_are_rerun_by_their_stable_ids() -> None:
    api = execution_api(
        {"tc2": details("TEST_FAILED", "p-checkout"), "tc3": details("AGENT_TIMEOUT", "p-signup")},
        PRODUCT_FAILURE,
        AGENT_MISS,
    )
    observer = RecordingListener()
    stream = RecordingStream(api.clock)
    (report,) = wait_on(
        api, EXECUTION, ["abc123"], say=observer, stream=stream, listing=True, reruns=2
    )
    # One POST, naming the miss's test and nothing else: never failedOnly beside it.
    assert api.posted == [("abc123", {"projectTestCaseIds": ["p-signup"]})]
    assert isinstance(report, FinishedRun)
    _, checkout, signup = report.cases
    # The product failure keeps its one verdict: a failure, not rerun, not flaky.
    assert (checkout.outcome, checkout.attempts, checkout.error_code) == (
        Outcome.FAILED, (), "TEST_FAILED",
    )  # fmt: skip
    assert signup.flaky
    assert [attempt.headline for attempt in signup.attempts] == [
        "AGENT_TIMEOUT: the QA.tech agent could not run this case (Timed out)"
    ]
    assert "note: 1 case to run again: rerun 1 of 2 started as QA.tech run def456" in (
        "\n".join(observer.lines)
    )
    # The product failure was told as soon as its details said what it was.
    told = next(i for i, event in enumerate(stream.events) if "tc2 failed" in event)
    assert told < next(i for i, event in enumerate(stream.events) if "ended" in event)


@pytest.mark.parametrize(
    "misses",
    [
        {"tc2": details("TEST_FAILED", "p-checkout")},
        {"tc2": details("AGENT_TIMEOUT", None)},
    ],
    ids=["only a product failure", "a miss without its stable id"],
)
def test_nothing_is_rerun_without_an_execution_miss_to_name(
    misses: dict[str, dict[str, object]],
) -> None:
    api = execution_api(misses, PRODUCT_FAILURE)
    (report,) = wait_on(api, EXECUTION, ["abc123"], listing=True, reruns=2)
    assert api.posted == []
    assert isinstance(report, FinishedRun)
    assert report.reruns == ()


def test_the_default_reruns_every_case_that_did_not_pass_with_failed_only() -> None:
    api = execution_api(
        {"tc2": details("TEST_FAILED", "p-checkout"), "tc3": details("AGENT_TIMEOUT", "p-signup")},
        PRODUCT_FAILURE,
        AGENT_MISS,
    )
    everything = dataclasses.replace(EXECUTION, reruns_only="all")
    wait_on(api, everything, ["abc123"], listing=True, reruns=1)
    assert api.posted == [("abc123", {"failedOnly": True})]


def test_which_cases_a_rerun_runs_again_in_each_mode() -> None:
    base = RemoteCase("x", Outcome.FAILED, "t", project_case_id="p")
    cases = {
        "product": dataclasses.replace(base, error_code="TEST_FAILED"),
        "agent": dataclasses.replace(base, outcome=Outcome.ERROR, error_code="AGENT_X"),
        "platform": dataclasses.replace(base, outcome=Outcome.ERROR, error_code="PLATFORM_Y"),
        "skipped by the agent": dataclasses.replace(
            base, outcome=Outcome.SKIPPED, error_code="AGENT_Z"
        ),
        "details unknown": base,
        "passed": dataclasses.replace(base, outcome=Outcome.PASSED),
    }
    chosen = {name for name, case in cases.items() if EXECUTION.rerun_cases([case])}
    assert chosen == {"agent", "platform", "skipped by the agent"}
    # A case whose code is not known yet may still be a miss: its verdict waits.
    held = {name for name, case in cases.items() if EXECUTION.reruns_again(case)}
    assert held == {"agent", "platform", "skipped by the agent", "details unknown"}
    everything = dataclasses.replace(EXECUTION, reruns_only="all")
    assert {n for n, c in cases.items() if everything.rerun_cases([c])} == set(cases) - {"passed"}


# A rerun runs again only the failed cases the session selected (Chosen), and waits to know them.

SIGNUP_MISS = AGENT_MISS
ALL_FAILED = dataclasses.replace(EXECUTION, reruns_only="all")
BOTH = {"tc2": details("TEST_FAILED", "p-checkout"), "tc3": details("AGENT_TIMEOUT", "p-signup")}


def selecting(*answers: Chosen | None) -> tuple[list[float], Callable[[str, str], Chosen | None]]:
    """What a front end says it selected, an answer a call (the last one repeats), and when
    each call was made."""
    asked: list[float] = []
    script = list(answers)

    def selected(provider: str, run_id: str) -> Chosen | None:
        assert (provider, run_id) == ("qatech", "abc123")
        asked.append(len(asked))
        return script.pop(0) if len(script) > 1 else script[0]

    return asked, selected


@pytest.mark.parametrize(
    ("chosen", "posted"),
    [
        (Chosen(), {"failedOnly": True}),
        (Chosen(frozenset({"tc1", "tc2", "tc3"})), {"failedOnly": True}),
        (Chosen(frozenset({"tc3"})), {"projectTestCaseIds": ["p-signup"]}),
        (Chosen(frozenset({"tc1", "tc2"})), {"projectTestCaseIds": ["p-checkout"]}),
    ],
    ids=["every case", "every listed case", "one failure", "a pass and a failure"],
)
def test_a_rerun_asks_only_for_the_selected_cases_that_did_not_pass(
    chosen: Chosen, posted: dict[str, object]
) -> None:
    api = execution_api(BOTH, PRODUCT_FAILURE, SIGNUP_MISS)
    _, selected = selecting(chosen)
    wait_on(api, ALL_FAILED, ["abc123"], listing=True, reruns=1, selected=selected)
    assert api.posted == [("abc123", posted)]


def test_no_rerun_when_no_selected_case_needs_one() -> None:
    api = execution_api(BOTH, PRODUCT_FAILURE, SIGNUP_MISS)
    _, selected = selecting(Chosen(frozenset({"tc1"})))
    (report,) = wait_on(api, ALL_FAILED, ["abc123"], listing=True, reruns=1, selected=selected)
    assert api.posted == []
    assert isinstance(report, FinishedRun)
    assert report.reruns == ()


def test_without_the_tests_ids_a_partial_selection_reruns_nothing_and_says_so() -> None:
    api = execution_api(
        {}, PRODUCT_FAILURE, SIGNUP_MISS, qatech_case("Pay", "FAILED", short_id="tc4")
    )
    _, selected = selecting(Chosen(frozenset({"tc3", "tc4"})))
    observer = RecordingListener()
    (report,) = wait_on(
        api, PROVIDER, ["abc123"], say=observer, listing=True, reruns=1, selected=selected
    )
    assert api.posted == []
    assert isinstance(report, FinishedRun)
    assert observer.lines[-1] == (
        "QA.tech run abc123 warning: not rerun: 'Signup', 'Pay', selected here of its failed "
        "cases: a rerun of some of a run's failed cases names their tests by id, which no "
        "details of these gave; their verdicts stand"
    )


def test_the_selected_cases_with_ids_are_rerun_and_those_without_keep_their_verdicts() -> None:
    pay = qatech_case("Pay", "FAILED", short_id="tc4")
    api = execution_api({**BOTH, "tc4": details("TEST_FAILED", None)},
                        PRODUCT_FAILURE, SIGNUP_MISS, pay)  # fmt: skip
    _, selected = selecting(Chosen(frozenset({"tc3", "tc4"})))
    observer = RecordingListener()
    wait_on(api, ALL_FAILED, ["abc123"], say=observer, listing=True, reruns=1, selected=selected)
    assert api.posted == [("abc123", {"projectTestCaseIds": ["p-signup"]})]
    said = "\n".join(observer.lines)
    assert "warning: not rerun: 'Pay', selected here of its failed cases" in said
    assert "note: 1 case to run again: rerun 1 of 1 started as QA.tech run def456" in said


def test_a_rerun_waits_until_the_front_end_knows_what_it_selected() -> None:
    api = execution_api(BOTH, PRODUCT_FAILURE, SIGNUP_MISS)
    asked, selected = selecting(None, None, None, Chosen(frozenset({"tc3"})))
    (report,) = wait_on(api, ALL_FAILED, ["abc123"], listing=True, reruns=1, selected=selected)
    assert len(asked) >= 4  # asked again until it knew...
    ended = max(when for when, kind, run in api.log if (kind, run) == ("poll", "abc123"))
    (rerun,) = (when for when, kind, _ in api.log if kind == "rerun")
    # ...a poll interval apart: never in a busy loop, never an idle minute
    assert 2 * 10.0 <= rerun - ended <= len(asked) * 10.0
    assert api.posted == [("abc123", {"projectTestCaseIds": ["p-signup"]})]
    assert isinstance(report, FinishedRun)
    assert [case.flaky for case in report.cases] == [False, False, True]


def test_a_selection_not_known_by_the_timeout_reruns_nothing_and_says_so() -> None:
    api = execution_api(BOTH, PRODUCT_FAILURE, SIGNUP_MISS)
    _, selected = selecting(None)
    observer = RecordingListener()
    (report,) = wait_on(
        api, ALL_FAILED, ["abc123"], say=observer, listing=True, reruns=1, selected=selected,
        timeout=120.0,
    )  # fmt: skip
    assert api.posted == []
    assert isinstance(report, FinishedRun)
    assert [case.outcome for case in report.cases] == [
        Outcome.PASSED, Outcome.FAILED, Outcome.ERROR,
    ]  # fmt: skip
    assert "QA.tech run abc123 warning: its failed cases were not rerun: which of its cases this " \
        "session reports was not known before the wait's timeout" in observer.lines  # fmt: skip


def test_a_run_waiting_for_the_selection_at_the_timeout_does_not_keep_the_others_waiting() -> None:
    api = execution_api(BOTH, PRODUCT_FAILURE, SIGNUP_MISS)
    api.polls["xyz789"] = [qatech_run("xyz789", "RUNNING", [])]  # never ends
    reports = wait_on(api, ALL_FAILED, ["abc123", "xyz789"], listing=True, reruns=1,
                      selected=lambda provider, run_id: None, timeout=120.0)  # fmt: skip
    assert [(type(r).__name__, r.run_id) for r in reports] == [
        ("FinishedRun", "abc123"), ("UnreadableRun", "xyz789"),
    ]  # fmt: skip


def test_a_rerun_that_passed_does_not_pass_a_run_whose_other_failure_stands() -> None:
    product = failed("Checkout", "tc2", "No pay button")
    miss = failed("Signup", "tc3", "Timed out")
    first = finished("abc123", passed("Login", "tc1"), product, miss)
    run, _ = merged(first, finished("def456", passed("Signup", "tc9")), RERUN_1, AGAIN)
    assert (run.result, [case.outcome for case in run.cases]) == (
        "FAILED", [Outcome.PASSED, Outcome.FAILED, Outcome.PASSED],
    )  # fmt: skip
    assert summary_lines([run])[0] == (
        "QA.tech run abc123: COMPLETED, result FAILED - 2 passed, 1 failed (after 1 rerun: def456)"
    )
    assert "| QA.tech abc123 | COMPLETED, FAILED |" in step_summary([run], [])


def test_a_run_waiting_for_the_selection_is_rerun_once_it_is_known_behind_an_ended_run() -> None:
    api = execution_api(BOTH, PRODUCT_FAILURE, SIGNUP_MISS)
    api.polls["aaa111"] = [qatech_run("aaa111", "COMPLETED", [qatech_case("Ok", short_id="t9")])]
    asked: list[str] = []

    def selected(provider: str, run_id: str) -> Chosen | None:
        asked.append(run_id)
        return Chosen(frozenset({"tc3"})) if asked.count("abc123") > 2 else None

    wait_on(api, ALL_FAILED, ["aaa111", "abc123"], listing=True, reruns=1, selected=selected)
    assert api.posted == [("abc123", {"projectTestCaseIds": ["p-signup"]})]


def test_after_reruns_the_case_and_run_short_ids_name_the_same_attempt() -> None:
    first = finished("abc123", failed("Checkout", "tc2", "No pay button"))
    run, _ = merged(first, finished("def456", passed("Checkout", "tc9")), RERUN_1, AGAIN)
    properties = dict(render_case(run, run.cases[0]).properties)
    assert (properties["run_short_id"], properties["case_short_id"]) == ("def456", "tc9")
    assert (properties["attempt_1_run_short_id"], properties["attempt_2_run_short_id"]) == (
        "abc123", "def456",
    )  # fmt: skip


def test_more_flaky_cases_than_the_limit_are_named() -> None:
    flaky = ["qatech::A", "qatech::B\x1b[31m"]
    assert too_flaky(flaky, None) is None
    assert too_flaky(flaky, 2) is None
    assert too_flaky(flaky, 1) == (
        "2 flaky cases, more than --qatech-max-flaky 1 allows: qatech::A, qatech::B\\x1b[31m"
    )
    assert too_flaky(flaky[:1], 0) == (
        "1 flaky case, more than --qatech-max-flaky 0 allows: qatech::A"
    )
    assert too_flaky([], 0) is None
