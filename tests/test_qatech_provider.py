from __future__ import annotations

from typing import Any

import pytest

from pytest_qatech.models import FinishedRun, Outcome, run_report_from_json
from pytest_qatech.providers import BodyError
from pytest_qatech.providers.qatech import QatechProvider
from pytest_qatech.settings import Secret
from pytest_qatech.simulator import case

provider = QatechProvider(Secret("t0ken-value"))


def run_body(cases: list[Any] | None, status: str = "COMPLETED", result: Any = "PASSED") -> Any:
    return {
        "id": "u",
        "shortId": "abc123",
        "status": status,
        "result": result,
        "runTestCases": cases,
    }


def only_case(raw: dict[str, Any], **run: Any) -> Any:
    return provider.parse_results("abc123", run_body([raw], **run)).cases[0]


def test_requests_follow_the_reference() -> None:
    assert provider.status_request("abc123").path == "/v1/run/abc123"
    assert provider.status_request("abc123").params == ()
    assert provider.results_request("abc123").params == (("testCases", "all"),)
    headers = provider.auth_headers()
    assert headers["Authorization"].reveal() == "Bearer t0ken-value"
    assert "t0ken-value" not in repr(headers) + repr(provider)


@pytest.mark.parametrize(
    ("status", "finished"),
    [
        ("INITIATED", False),
        ("RUNNING", False),
        ("COMPLETED", True),
        ("ERROR", True),
        ("CANCELLED", True),
        # Undocumented: not worth waiting an hour for; reported as a problem of the run.
        ("PAUSED", True),
    ],
)
def test_status_polls(status: str, finished: bool) -> None:
    # The light form may leave runTestCases out altogether.
    progress = provider.parse_status(
        "abc123", {"id": "u", "shortId": "abc123", "status": status, "result": None}
    )
    assert (progress.status, progress.finished) == (status, finished)


@pytest.mark.parametrize(
    ("raw", "outcome", "headline"),
    [
        (case("a", "PASSED"), Outcome.PASSED, ""),
        (case("a", "FAILED", title="Button missing"), Outcome.FAILED, "Button missing"),
        (
            case("a", "FAILED"),
            Outcome.FAILED,
            "QA.tech marked this case FAILED without a resultTitle",
        ),
        (case("a", "SKIPPED", title="flag off"), Outcome.SKIPPED, "flag off"),
        (case("a", "SKIPPED"), Outcome.SKIPPED, "skipped by QA.tech"),
        (case("a", None, status="ERROR"), Outcome.ERROR, "the case ended ERROR (result None)"),
        (case("a", "PASSED", status="CANCELLED"), Outcome.ERROR, "the case ended CANCELLED"),
        (case("a", None), Outcome.ERROR, "the case has no result although its run has ended"),
        (case("a", "MAYBE"), Outcome.ERROR, "the case has result 'MAYBE', which the QA.tech API"),
        (
            case("a", "PASSED", status="RUNNING"),
            Outcome.ERROR,
            "the case has result PASSED but status 'RUNNING'",
        ),
    ],
)
def test_case_verdicts(raw: dict[str, Any], outcome: Outcome, headline: str) -> None:
    verdict = only_case(raw)
    assert verdict.outcome is outcome
    assert verdict.headline.startswith(headline)


def test_failure_details_carry_thought_goal_and_ids() -> None:
    verdict = only_case(
        case("Login", "FAILED", title="T", thought="Because.", goal="Log in", short_id="xyz789")
    )
    assert verdict.details == "Because.\n\nGoal: Log in\nQA.tech case xyz789 in run abc123"
    assert verdict.properties == (
        ("run_short_id", "abc123"),
        ("case_short_id", "xyz789"),
        ("prompt_goal", "Log in"),
    )


def test_failure_without_any_text_is_still_clear() -> None:
    verdict = only_case(case("Login", "FAILED", short_id="x1"))
    assert "no evaluationThought" in verdict.details
    assert "QA.tech case x1 in run abc123" in verdict.details


@pytest.mark.parametrize(
    ("status", "result", "problem"),
    [
        ("COMPLETED", "PASSED", None),
        ("COMPLETED", "SKIPPED", None),
        ("ERROR", "FAILED", "ended ERROR"),
        ("CANCELLED", None, "ended CANCELLED"),
        ("COMPLETED", None, "has no result"),
        ("COMPLETED", "GREAT", "result 'GREAT', which the QA.tech API reference does not list"),
        ("PAUSED", None, "status 'PAUSED', which the QA.tech API reference does not list"),
        ("RUNNING", None, "still RUNNING"),
    ],
)
def test_run_problems(status: str, result: str | None, problem: str | None) -> None:
    run = provider.parse_results("abc123", run_body([case("a")], status=status, result=result))
    if problem is None:
        assert run.problem is None
    else:
        assert run.problem is not None
        assert problem in run.problem


def test_failed_run_without_failed_case_is_a_problem() -> None:
    run = provider.parse_results("abc123", run_body([case("a")], result="FAILED"))
    assert run.problem == "QA.tech run abc123 has result FAILED, but none of its 1 cases failed"
    failing = provider.parse_results("abc123", run_body([case("a", "FAILED")], result="FAILED"))
    assert failing.problem is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "run abc123: expected a JSON object, received a list of 0"),
        ("x", "expected a JSON object, received a string ('x')"),
        ({"shortId": "abc123", "status": "COMPLETED"}, "required field 'id' is missing"),
        (
            {**run_body([]), "shortId": "other"},
            "asked for run abc123, but the API answered with run 'other'",
        ),
        ({**run_body([]), "status": 3}, "field 'status' must be a string, received a number (3)"),
        (
            {**run_body([]), "result": True},
            "field 'result' must be a string or null, received a boolean",
        ),
        (
            run_body(None),
            "field 'runTestCases' must be a list of test cases once the run has ended, "
            "received null",
        ),
        ({k: v for k, v in run_body([]).items() if k != "runTestCases"}, "received missing"),
        (
            {k: v for k, v in run_body([]).items() if k != "result"},
            "required field 'result' is missing",
        ),
    ],
)
def test_malformed_runs_name_the_field(body: Any, message: str) -> None:
    with pytest.raises(BodyError) as raised:
        provider.parse_results("abc123", body)
    assert message in str(raised.value)


def test_one_malformed_case_does_not_hide_the_others() -> None:
    broken_status = {**case("broken"), "status": None}
    cases = [
        case("good"),
        "not a case",
        broken_status,
        {**case("x"), "name": 7},
        case("bad", "FAILED"),
    ]
    run = provider.parse_results("abc123", run_body(cases, result="FAILED"))
    assert [c.name for c in run.cases] == ["good", "case #2", "broken", "case #4", "bad"]
    assert [c.outcome for c in run.cases] == [
        Outcome.PASSED,
        Outcome.ERROR,
        Outcome.ERROR,
        Outcome.ERROR,
        Outcome.FAILED,
    ]
    assert (
        run.cases[1].headline
        == "case #2 of run abc123: expected a JSON object, received a string ('not a case')"
    )
    assert (
        run.cases[2].headline
        == "case #3 of run abc123: field 'status' must be a string, received null"
    )


def test_unknown_extra_fields_are_ignored() -> None:
    body = {**run_body([{**case("a"), "durationMs": 5}]), "newField": {"x": 1}}
    assert provider.parse_results("abc123", body).cases[0].outcome is Outcome.PASSED


def test_runs_survive_a_json_round_trip() -> None:
    run = provider.parse_results(
        "abc123", run_body([case("a"), case("b", "FAILED", title="t")], result="FAILED")
    )
    assert isinstance(run, FinishedRun)
    assert run_report_from_json(run.to_json()) == run
