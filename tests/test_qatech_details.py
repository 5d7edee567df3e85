"""QA.tech case details: ``GET /v1/run-test-case/{shortId}`` adds durations, error codes and
links; reading them is concurrent, bounded and retried, and never loses a verdict."""

from __future__ import annotations

import random
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from pytest_qatech.client import FinalError, TransientError
from pytest_qatech.details import add_case_details
from pytest_qatech.models import FinishedRun, Outcome, RemoteCase, RunReport
from pytest_qatech.providers import ApiRequest, BodyError
from pytest_qatech.providers.qatech import QatechProvider
from pytest_qatech.settings import Secret, SettingsError
from pytest_qatech.simulator import Answer, SimulatedRun, Simulator, case
from pytest_qatech.waiting import RetryPolicy, Target

from .conftest import mixed_run, requests_made
from .test_faults import run_abc
from .test_settings import only_source, settings_from
from .test_waiting import RecordingObserver

token = Secret("t0ken-value")


def finished(*raw_cases: dict[str, Any], details: str = "failed") -> tuple[QatechProvider, Any]:
    provider = QatechProvider(token, details=details)
    body = {
        "id": "u",
        "shortId": "abc123",
        "status": "COMPLETED",
        "result": "FAILED",
        "runTestCases": list(raw_cases),
    }
    return provider, provider.parse_results("abc123", body)


FAILED_CASE = case(
    "Checkout",
    "FAILED",
    title="Could not find the 'Pay now' button",
    thought="The payment panel stayed empty.",
    short_id="tc2",
)


def detailed(raw: dict[str, Any], answer: dict[str, Any]) -> RemoteCase:
    provider, run = finished(raw, details="all")
    (details,) = provider.case_details(run)
    return details.merge(run.cases[0], {"shortId": raw["shortId"], **answer})


# Which cases are asked about


@pytest.mark.parametrize(
    ("mode", "asked"),
    [("failed", ["tc2", "tc3", "tc4"]), ("all", ["tc1", "tc2", "tc3", "tc4"]), ("none", [])],
)
def test_which_cases_get_a_details_request(mode: str, asked: list[str]) -> None:
    provider, run = finished(
        case("a", "PASSED", short_id="tc1"),
        case("b", "FAILED", short_id="tc2"),
        case("c", "SKIPPED", short_id="tc3"),
        case("d", None, status="ERROR", short_id="tc4"),
        # Malformed (no shortId): already an error, and there is no id to ask about.
        {"name": "e", "status": "COMPLETED"},
        details=mode,
    )
    requests = provider.case_details(run)
    assert [details.request for details in requests] == [
        ApiRequest(f"/v1/run-test-case/{short_id}") for short_id in asked
    ]
    names = {"tc1": "a", "tc2": "b", "tc3": "c", "tc4": "d"}
    assert [run.cases[details.index].name for details in requests] == [
        names[short_id] for short_id in asked
    ]


def test_details_setting_from_command_line_ini_or_environment() -> None:
    def mode(**sources: Any) -> str:
        return repr(only_source(settings_from(**sources)).provider)

    assert "details='failed'" in mode()
    assert "details='none'" in mode(environ={"QATECH_DETAILS": "none"})
    assert "details='all'" in mode(ini={"qatech_details": "all"}, environ={"QATECH_DETAILS": "x"})
    assert "details='none'" in mode(cli={"qatech_details": "none"}, ini={"qatech_details": "all"})
    with pytest.raises(SettingsError, match="--qatech-details 'some' is not one of failed, all"):
        mode(cli={"qatech_details": "some"})


# What an answer changes


def test_a_product_failure_gains_its_duration_error_code_and_links() -> None:
    merged = detailed(
        FAILED_CASE,
        {
            "durationMs": 42_500,
            "errorCode": "TEST_FAILED",
            "url": "https://app.qa.tech/case/tc2",
            "screenshotUrl": "https://media.example/tc2.png",
            "recordingUrl": "https://media.example/tc2.webm",
            "startedAt": "2026-06-10T16:02:11Z",
            "completedAt": "2026-06-10T16:02:53Z",
        },
    )
    assert merged.outcome is Outcome.FAILED
    assert merged.headline == "Could not find the 'Pay now' button"
    assert merged.duration == 42.5
    assert merged.details.startswith("The payment panel stayed empty.")
    assert merged.details.endswith(
        "Error code: TEST_FAILED\n"
        "Case: https://app.qa.tech/case/tc2\n"
        "Screenshot: https://media.example/tc2.png\n"
        "Recording: https://media.example/tc2.webm"
    )
    assert dict(merged.properties) == {
        "run_short_id": "abc123",
        "case_short_id": "tc2",
        "error_code": "TEST_FAILED",
        "case_url": "https://app.qa.tech/case/tc2",
        "screenshot_url": "https://media.example/tc2.png",
        "recording_url": "https://media.example/tc2.webm",
        "started_at": "2026-06-10T16:02:11Z",
        "completed_at": "2026-06-10T16:02:53Z",
    }


@pytest.mark.parametrize(
    ("raw", "code", "headline"),
    [
        (
            FAILED_CASE,
            "AGENT_TIMEOUT",
            "AGENT_TIMEOUT: the QA.tech agent could not run this case "
            "(Could not find the 'Pay now' button)",
        ),
        (
            FAILED_CASE,
            "PLATFORM_BROWSER_CRASHED",
            "PLATFORM_BROWSER_CRASHED: the QA.tech platform could not run this case "
            "(Could not find the 'Pay now' button)",
        ),
        # A pass from an agent that failed is no verdict on the product either.
        (
            case("Login", "PASSED", short_id="tc1"),
            "AGENT_LOST",
            "AGENT_LOST: the QA.tech agent could not run this case",
        ),
        # Contradictions are errors, never passes.
        (
            case("Login", "PASSED", short_id="tc1"),
            "TEST_FAILED",
            "QA.tech gave this case result PASSED but errorCode TEST_FAILED",
        ),
    ],
)
def test_execution_problems_are_errors_not_failures(
    raw: dict[str, Any], code: str, headline: str
) -> None:
    merged = detailed(raw, {"errorCode": code})
    assert merged.outcome is Outcome.ERROR
    assert merged.headline == headline
    assert f"Error code: {code}" in merged.details
    assert ("error_code", code) in merged.properties


def test_a_skip_stays_a_skip_whatever_its_error_code() -> None:
    skipped = case("Newsletter", "SKIPPED", title="Flag off", short_id="tc3")
    merged = detailed(skipped, {"errorCode": "AGENT_SKIPPED"})
    assert (merged.outcome, merged.headline) == (Outcome.SKIPPED, "Flag off")
    assert "Error code: AGENT_SKIPPED" in merged.details


def test_an_empty_error_code_is_no_error_code() -> None:
    merged = detailed(case("Login", "PASSED", short_id="tc1"), {"errorCode": ""})
    assert (merged.outcome, merged.properties) == (
        Outcome.PASSED,
        (("run_short_id", "abc123"), ("case_short_id", "tc1")),
    )


def test_a_pass_keeps_no_text_but_gains_its_duration() -> None:
    merged = detailed(case("Login", "PASSED", short_id="tc1"), {"durationMs": 1200})
    assert (merged.outcome, merged.details, merged.duration) == (Outcome.PASSED, "", 1.2)


def test_every_field_of_the_details_is_optional() -> None:
    merged = detailed(FAILED_CASE, {})
    _, run = finished(FAILED_CASE)
    assert merged == run.cases[0]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"shortId": "tc9"}, "asked for case tc2, but the API answered with case 'tc9'"),
        ({"durationMs": -1}, "field 'durationMs' must be a non-negative number"),
        ({"errorCode": 7}, "field 'errorCode' must be a string or null"),
        ({"recordingUrl": "javascript:alert(1)"}, "field 'recordingUrl' is not a web link"),
    ],
)
def test_an_answer_that_does_not_fit_is_refused(answer: dict[str, Any], message: str) -> None:
    with pytest.raises(BodyError, match=message.replace("(", r"\(")):
        detailed(FAILED_CASE, answer)


def test_an_answer_that_is_no_object_is_refused() -> None:
    provider, run = finished(FAILED_CASE)
    (details,) = provider.case_details(run)
    with pytest.raises(BodyError, match="details of case tc2: expected a JSON object"):
        details.merge(run.cases[0], ["not", "an", "object"])


# Reading them: concurrent, bounded, retried, degrading with a warning


class ScriptedClient:
    """Answers each details request through ``answer(short_id, attempt)``, from any thread."""

    def __init__(self, answer: Callable[[str, int], object]) -> None:
        self._answer = answer
        self._lock = threading.Lock()
        self.attempts: dict[str, int] = {}
        self.in_flight = 0
        self.most_in_flight = 0

    def url(self, request: ApiRequest) -> str:
        return "https://api.example" + request.path

    def get_json(self, request: ApiRequest, time_left: float | None = None) -> object:
        short_id = request.path.rsplit("/", 1)[-1]
        with self._lock:
            attempt = self.attempts[short_id] = self.attempts.get(short_id, 0) + 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            answer = self._answer(short_id, attempt)
        finally:
            with self._lock:
                self.in_flight -= 1
        if isinstance(answer, BaseException):
            raise answer
        return answer


def failed_cases(count: int) -> list[dict[str, Any]]:
    return [case(f"case {n}", "FAILED", title="t", short_id=f"tc{n}") for n in range(count)]


def add_details(
    client: ScriptedClient,
    raw_cases: Sequence[dict[str, Any]],
    observer: RecordingObserver,
    *,
    workers: int = 8,
    deadline: float | None = None,
) -> FinishedRun:
    provider, run = finished(*raw_cases)
    (report,) = add_case_details(
        [Target(provider, client, "abc123")],
        [run],
        deadline=time.monotonic() + 60 if deadline is None else deadline,
        retry=RetryPolicy(base=0.001, cap=0.01, max_attempts=3),
        observer=observer,
        rng=random.Random(1),
        workers=workers,
    )
    assert isinstance(report, FinishedRun)
    return report


def test_requests_run_in_parallel_up_to_the_bound() -> None:
    # Each answer waits until three requests are in flight at once: only a reader that keeps
    # three going can finish; the barrier breaks (and the test fails) for a serial one.
    barrier = threading.Barrier(3, timeout=10)

    def answer(short_id: str, attempt: int) -> object:
        barrier.wait()
        return {"durationMs": 1000}

    client = ScriptedClient(answer)
    report = add_details(client, failed_cases(9), RecordingObserver(), workers=3)
    assert [c.duration for c in report.cases] == [1.0] * 9
    assert client.most_in_flight == 3
    assert client.attempts == {f"tc{n}": 1 for n in range(9)}


def test_transient_failures_are_retried() -> None:
    def answer(short_id: str, attempt: int) -> object:
        if short_id == "tc1" and attempt < 3:
            return TransientError("HTTP 503 Service Unavailable", retry_after=0)
        return {"durationMs": 2000}

    observer = RecordingObserver()
    report = add_details(ScriptedClient(answer), failed_cases(2), observer)
    assert [c.duration for c in report.cases] == [2.0, 2.0]
    assert (
        observer.lines
        == [
            "QA.tech run abc123 failed: GET https://api.example/v1/run-test-case/tc1: "
            "HTTP 503 Service Unavailable"
        ]
        * 2
    )


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (
            lambda short_id, attempt: TransientError("connection failed"),
            "GET https://api.example/v1/run-test-case/tc0 failed 3 times; the last: "
            "connection failed",
        ),
        (
            lambda short_id, attempt: FinalError('HTTP 404 Not Found: "Test case not found"', 404),
            'GET https://api.example/v1/run-test-case/tc0 failed: HTTP 404 Not Found: "Test '
            'case not found"',
        ),
        (
            lambda short_id, attempt: {"durationMs": "soon"},
            "GET https://api.example/v1/run-test-case/tc0 gave an unusable answer: details of "
            "case tc0: field 'durationMs' must be a non-negative number or null, received a "
            "string ('soon')",
        ),
    ],
    ids=["retries exhausted", "final error", "unusable answer"],
)
def test_unreadable_details_leave_the_verdict_as_it_was_with_a_warning(
    answer: Callable[[str, int], object], problem: str
) -> None:
    observer = RecordingObserver()
    client = ScriptedClient(answer)
    report = add_details(client, failed_cases(2), observer)
    _, run = finished(*failed_cases(2))
    assert report.cases == run.cases
    assert observer.lines[-1] == (
        "QA.tech run abc123 details missing: the details of 2 of 2 cases could not be read, so "
        "they are reported as the run endpoint described them; the first problem: " + problem
    )


def test_details_never_outlast_the_wait() -> None:
    observer = RecordingObserver()
    report = add_details(
        ScriptedClient(lambda *_: {"durationMs": 1}), failed_cases(1), observer, deadline=0.0
    )
    assert report.cases[0].duration is None
    assert observer.lines[-1].endswith(
        "GET https://api.example/v1/run-test-case/tc0: no answer before the wait's timeout"
    )


def test_an_interrupt_stops_the_reading_and_leaves_no_thread_behind() -> None:
    def answer(short_id: str, attempt: int) -> object:
        return KeyboardInterrupt() if short_id == "tc3" else {}

    with pytest.raises(KeyboardInterrupt):
        add_details(ScriptedClient(answer), failed_cases(6), RecordingObserver(), workers=2)
    for thread in threading.enumerate():
        if thread.name == "qatech-details":
            thread.join(timeout=10)
    assert not [t for t in threading.enumerate() if t.name == "qatech-details"]


def test_runs_of_platforms_without_details_are_untouched() -> None:
    provider, run = finished(FAILED_CASE, details="none")
    reports: list[RunReport] = [run]
    client = ScriptedClient(lambda *_: pytest.fail("no request expected"))
    assert (
        add_case_details(
            [Target(provider, client, "abc123")],
            reports,
            deadline=time.monotonic() + 60,
            retry=RetryPolicy(),
            observer=RecordingObserver(),
        )
        == reports
    )


# End to end, with the simulator


@pytest.mark.parametrize(
    ("args", "ini", "asked"),
    [
        ((), "", ["tc2", "tc3"]),
        (("--qatech-details=all",), "", ["tc1", "tc2", "tc3"]),
        (("--qatech-details", "none"), "", []),
        ((), "qatech_details = none", []),
        (("--qatech-details=all",), "qatech_details = none", ["tc1", "tc2", "tc3"]),
    ],
)
def test_which_details_are_read(
    simulator: Simulator,
    pytester: pytest.Pytester,
    args: tuple[str, ...],
    ini: str,
    asked: list[str],
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    simulator.add(mixed_run())
    run_abc(pytester, *args).assert_outcomes(passed=1, failed=1, skipped=1)
    assert [path for path, _ in requests_made(simulator)[4:]] == [
        f"/v1/run-test-case/{short_id}" for short_id in asked
    ]


def test_an_agent_failure_is_a_pytest_error_and_a_junit_error(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(mixed_run())
    simulator.runs["/v1/run-test-case/tc2"].body["errorCode"] = "AGENT_TIMEOUT"  # type: ignore[attr-defined]
    result = run_abc(pytester, "-rE", "--junitxml=report.xml")
    result.assert_outcomes(passed=1, errors=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of qatech abc123: Checkout _*",
            "AGENT_TIMEOUT: the QA.tech agent could not run this case "
            "(Could not find login button)",
            "",
            "The login button was not visible on the page.",
            "*",
            "Error code: AGENT_TIMEOUT",
            "Case: https://app.qatech.simulator.invalid/results/abc123/tc2",
            "Screenshot: https://media.simulator.invalid/qatech/tc2.png",
            "Recording: https://media.simulator.invalid/qatech/tc2.webm",
        ]
    )
    testcase = next(
        element
        for element in ET.parse(pytester.path / "report.xml").getroot().iter("testcase")
        if element.get("name") == "Checkout"
    )
    assert [child.tag for child in testcase if child.tag != "properties"] == ["error"]


def test_missing_details_endpoint_degrades_with_a_warning(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(SimulatedRun("abc123", "FAILED", mixed_run().cases, details={"tc2": None}))
    result = run_abc(pytester)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "qatech: warning: QA.tech run abc123: the details of 1 of 2 cases could not be read, "
            "so they are reported as the run endpoint described them; the first problem: GET "
            'http://127.0.0.1:*/v1/run-test-case/tc2 failed: HTTP 404 Not Found: "Test case '
            'not found"',
            "FAILED qatech::abc123::Checkout - Could not find login button",
        ]
    )
    assert "Error code:" not in result.stdout.str()


def test_a_flaky_details_endpoint_is_retried(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(mixed_run())
    details = simulator.runs["/v1/run-test-case/tc2"]
    details.answers[0] = Answer(503, {"message": "Service Unavailable"})
    details.answers[1] = Answer(drop=True)
    result = run_abc(pytester)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "qatech: GET http://127.0.0.1:*/v1/run-test-case/tc2: HTTP 503 *; trying again in *",
            "qatech: GET http://127.0.0.1:*/v1/run-test-case/tc2: connection failed *",
            "Error code: TEST_FAILED",
        ]
    )
    assert details.requests == 3
    assert "warning" not in result.stdout.str()


def test_remote_durations_show_in_durations(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(mixed_run())
    seconds = {
        short_id: simulator.runs[f"/v1/run-test-case/{short_id}"].body["durationMs"] / 1000  # type: ignore[attr-defined]
        for short_id in ("tc2", "tc3")
    }
    result = run_abc(pytester, "--durations=0", "-vv")
    # On the phase that gives the verdict: call for a failure, setup for a skip.
    result.stdout.fnmatch_lines_random(
        [
            f"{seconds['tc2']:.2f}s call *qatech::abc123::Checkout",
            f"{seconds['tc3']:.2f}s setup *qatech::abc123::Newsletter",
        ]
    )
