"""QA.tech: the run endpoint's answers as cases, the case details' effect, and the words and
JUnit properties a case is shown with. Bodies are written here in the reference's shape."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.lookup import Lookup, SettingsError
from pytest_qatech.core.models import FinishedRun, Link, Outcome, RemoteCase
from pytest_qatech.core.providers.body import BodyError
from pytest_qatech.core.providers.qatech import QatechProvider
from pytest_qatech.core.rendering import render_case
from pytest_qatech.core.secrets import Secret

from .helpers import TC2_DETAILS, qatech_case, qatech_run

provider = QatechProvider(Secret("t0ken-value"), project=None, details="failed")

FAILED_CASE = qatech_case(
    "Checkout",
    "FAILED",
    title="Could not find the 'Pay now' button",
    thought="The payment panel stayed empty.",
    goal="Pay with the saved card",
    short_id="tc2",
)


def parse(*raw_cases: Any, result: Any = "FAILED", **run: Any) -> FinishedRun:
    return provider.parse_results("abc123", qatech_run("abc123", "COMPLETED", [*raw_cases], result))


def only_case(raw: Any) -> RemoteCase:
    (case,) = parse(raw).cases
    return case


def detailed(raw: dict[str, Any], answer: dict[str, Any]) -> RemoteCase:
    every = QatechProvider(Secret("t"), project=None, details="all")
    run = every.parse_results("abc123", qatech_run("abc123", "COMPLETED", [raw], "FAILED"))
    request = every.case_request(run.cases[0])
    assert request is not None
    return request.apply(run.cases[0], {"shortId": raw["shortId"], **answer})


def test_requests_follow_the_reference() -> None:
    assert provider.status_request("abc123") == ApiRequest("/v1/run/abc123")
    assert provider.results_request("abc123") == ApiRequest(
        "/v1/run/abc123", (("testCases", "all"),)
    )
    headers = provider.auth_headers()
    assert headers["Authorization"].reveal() == "Bearer t0ken-value"
    assert "t0ken-value" not in repr(headers) + repr(provider)


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (400, "the API rejected the query; this is a bug in pytest-qatech, please report it"),
        (401, "check QATECH_API_TOKEN: it is missing, mistyped or revoked"),
        (403, "the organisation may be suspended, or the token lacks access to this project"),
        (404, "check the run id, and that QATECH_API_TOKEN belongs to the project that ran it"),
        (410, None),
    ],
)
def test_hints(status: int, hint: str | None) -> None:
    assert provider.hint(status) == hint


def test_a_refused_start_or_rerun_hints_at_a_read_only_key() -> None:
    hint = provider.hint(403, post=True)
    assert hint is not None
    assert hint.startswith(
        "check that QATECH_API_TOKEN is a key with write access: a read-only key reads runs but "
        "cannot start or rerun them"
    )
    assert "read-only" not in (provider.hint(403) or "")


@pytest.mark.parametrize("variable", ["QATECH_API_TOKEN", "QATECH_API_KEY"])
def test_the_hints_name_the_variable_the_token_came_from(variable: str) -> None:
    lookup = Lookup(lambda name: None, lambda name: "", {variable: "t0ken"})
    configured = QatechProvider.configure(["abc123"], lookup).provider
    assert configured.hint(401) == f"check {variable}: it is missing, mistyped or revoked"
    assert (
        configured.hint(401, post=True) == f"check {variable}: it is missing, mistyped or revoked"
    )
    assert "t0ken" not in repr(configured)


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
        (qatech_case("a", "PASSED", short_id="t"), Outcome.PASSED, ""),
        (
            qatech_case("a", "FAILED", title="Button missing", short_id="t"),
            Outcome.FAILED,
            "Button missing",
        ),
        (
            qatech_case("a", "FAILED", short_id="t"),
            Outcome.FAILED,
            "QA.tech marked this case FAILED without a resultTitle",
        ),
        (qatech_case("a", "SKIPPED", title="flag off", short_id="t"), Outcome.SKIPPED, "flag off"),
        (qatech_case("a", "SKIPPED", short_id="t"), Outcome.SKIPPED, "skipped by QA.tech"),
        (
            qatech_case("a", None, status="ERROR", short_id="t"),
            Outcome.ERROR,
            "the case ended ERROR (result None): it produced no verdict",
        ),
        (
            qatech_case("a", "PASSED", status="CANCELLED", short_id="t"),
            Outcome.ERROR,
            "the case ended CANCELLED (result PASSED): it produced no verdict",
        ),
        (
            qatech_case("a", None, short_id="t"),
            Outcome.ERROR,
            "the case has no result although its run has ended (case status COMPLETED)",
        ),
        (
            qatech_case("a", "MAYBE", short_id="t"),
            Outcome.ERROR,
            "the case has result 'MAYBE', which the QA.tech API reference does not list "
            "(PASSED, FAILED, SKIPPED or null)",
        ),
        (
            qatech_case("a", "PASSED", status="RUNNING", short_id="t"),
            Outcome.ERROR,
            "the case has result PASSED but status 'RUNNING', not COMPLETED",
        ),
    ],
)
def test_case_verdicts(raw: dict[str, Any], outcome: Outcome, headline: str) -> None:
    case = only_case(raw)
    assert (case.outcome, case.headline) == (outcome, headline)


def test_a_case_carries_its_facts_as_fields() -> None:
    case = only_case(FAILED_CASE)
    assert case == RemoteCase(
        "Checkout",
        Outcome.FAILED,
        "Could not find the 'Pay now' button",
        "The payment panel stayed empty.",
        key="tc2",
        case_id="tc2",
        goal="Pay with the saved card",
    )


def test_a_failure_reads_thought_goal_and_ids_and_carries_them_as_properties() -> None:
    run = parse(FAILED_CASE)
    rendered = render_case(run, run.cases[0])
    assert rendered.text == (
        "Could not find the 'Pay now' button\n\n"
        "The payment panel stayed empty.\n\n"
        "Goal: Pay with the saved card\n"
        "QA.tech case tc2 in run abc123"
    )
    assert rendered.properties == (
        ("run_short_id", "abc123"),
        ("case_short_id", "tc2"),
        ("prompt_goal", "Pay with the saved card"),
    )


def test_a_failure_without_any_text_is_still_clear() -> None:
    run = parse(qatech_case("Login", "FAILED", short_id="x1"))
    # No stand-in for the missing evaluationThought: the headline says what is missing.
    assert render_case(run, run.cases[0]).details == "QA.tech case x1 in run abc123"


def test_an_error_shows_the_platforms_title_and_thought_below_what_was_wrong() -> None:
    raw = qatech_case(
        "crashed", None, status="ERROR", title="Agent lost the browser", thought="t", short_id="c"
    )
    run = parse(raw)
    assert render_case(run, run.cases[0]).text == (
        "the case ended ERROR (result None): it produced no verdict\n\n"
        "Agent lost the browser\n\nt\n\nQA.tech case c in run abc123"
    )


def test_a_pass_shows_no_text_but_keeps_its_properties() -> None:
    run = parse(qatech_case("Login", goal="Log in", short_id="tc1"), result="PASSED")
    rendered = render_case(run, run.cases[0])
    assert (rendered.headline, rendered.details) == ("", "")
    assert rendered.properties == (
        ("run_short_id", "abc123"),
        ("case_short_id", "tc1"),
        ("prompt_goal", "Log in"),
    )


def test_the_dashboard_link_with_a_project() -> None:
    linked = QatechProvider(Secret("t"), project="acme shop", details="failed")
    assert linked.run_url("abc123") == "https://app.qa.tech/p/acme%20shop/results/abc123"
    run = linked.parse_results("abc123", qatech_run("abc123", "COMPLETED", [FAILED_CASE], "FAILED"))
    rendered = render_case(run, run.cases[0])
    assert rendered.details.endswith("\nRun: https://app.qa.tech/p/acme%20shop/results/abc123")
    assert ("run_url", "https://app.qa.tech/p/acme%20shop/results/abc123") in rendered.properties


@pytest.mark.parametrize(
    ("status", "result", "problem"),
    [
        ("COMPLETED", "PASSED", None),
        ("COMPLETED", "SKIPPED", None),
        ("ERROR", "FAILED", "QA.tech run abc123 ended ERROR (result FAILED)"),
        ("CANCELLED", None, "QA.tech run abc123 ended CANCELLED (result None)"),
        ("COMPLETED", None, "QA.tech run abc123 is COMPLETED but has no result"),
        (
            "COMPLETED",
            "GREAT",
            "QA.tech run abc123 has result 'GREAT', which the QA.tech API reference does not "
            "list (PASSED, FAILED, SKIPPED)",
        ),
        (
            "PAUSED",
            None,
            "QA.tech run abc123 has status 'PAUSED', which the QA.tech API reference does not "
            "list (INITIATED, RUNNING, COMPLETED, ERROR, CANCELLED)",
        ),
        ("RUNNING", None, "QA.tech run abc123 is still RUNNING: its results are not final"),
    ],
)
def test_run_problems(status: str, result: str | None, problem: str | None) -> None:
    body = qatech_run("abc123", status, [qatech_case("a", short_id="t")], result)
    assert provider.parse_results("abc123", body).problem == problem


def test_failed_run_without_failed_case_is_a_problem() -> None:
    assert parse(qatech_case("a", short_id="t")).problem == (
        "QA.tech run abc123 has result FAILED, but none of its 1 cases failed"
    )
    assert parse(qatech_case("a", "FAILED", short_id="t")).problem is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "run abc123: expected a JSON object, received a list of 0"),
        ("x", "run abc123: expected a JSON object, received a string ('x')"),
        (
            {"shortId": "abc123", "status": "COMPLETED"},
            "run abc123: required field 'id' is missing",
        ),
        (
            {**qatech_run("abc123", "COMPLETED"), "shortId": "other"},
            "asked for run abc123, but the API answered with run 'other'",
        ),
        (
            {**qatech_run("abc123", "COMPLETED"), "status": 3},
            "run abc123: field 'status' must be a string, received a number (3)",
        ),
        (
            {**qatech_run("abc123", "COMPLETED"), "result": True},
            "run abc123: field 'result' must be a string or null, received a boolean (True)",
        ),
        (
            {**qatech_run("abc123", "COMPLETED"), "runTestCases": None},
            "run abc123: field 'runTestCases' must be a list of test cases once the run has "
            "ended, received null",
        ),
        (
            {k: v for k, v in qatech_run("abc123", "COMPLETED").items() if k != "runTestCases"},
            "run abc123: field 'runTestCases' must be a list of test cases once the run has "
            "ended, received missing",
        ),
        (
            {k: v for k, v in qatech_run("abc123", "COMPLETED").items() if k != "result"},
            "run abc123: required field 'result' is missing",
        ),
    ],
)
def test_malformed_runs_name_the_field(body: Any, message: str) -> None:
    with pytest.raises(BodyError) as raised:
        provider.parse_results("abc123", body)
    assert str(raised.value) == message


def test_one_malformed_case_does_not_hide_the_others() -> None:
    cases = [
        qatech_case("good", short_id="t1"),
        "not a case",
        {**qatech_case("broken", short_id="t3"), "status": None},
        {**qatech_case("x", short_id="t4"), "name": 7},
        qatech_case("bad", "FAILED", short_id="t5"),
    ]
    run = parse(*cases)
    assert [(c.name, c.outcome, c.headline) for c in run.cases] == [
        ("good", Outcome.PASSED, ""),
        (
            "case #2",
            Outcome.ERROR,
            "case #2 of run abc123: expected a JSON object, received a string ('not a case')",
        ),
        ("broken", Outcome.ERROR,
         "case #3 of run abc123: field 'status' must be a string, received null"),
        ("case #4", Outcome.ERROR,
         "case #4 of run abc123: field 'name' must be a string, received a number (7)"),
        ("bad", Outcome.FAILED, "QA.tech marked this case FAILED without a resultTitle"),
    ]  # fmt: skip
    # A malformed case has no facts to show beyond what was wrong.
    assert render_case(run, run.cases[1]).text == run.cases[1].headline


def test_unknown_extra_fields_are_ignored() -> None:
    body = {**qatech_run("abc123", "COMPLETED"), "newField": {"x": 1}}
    body["runTestCases"] = [{**qatech_case("a", short_id="t"), "durationMs": 5}]
    run = provider.parse_results("abc123", body)
    assert (run.status, run.result, run.cases[0].outcome) == ("COMPLETED", "PASSED", Outcome.PASSED)


# Case details: GET /v1/run-test-case/{shortId}


@pytest.mark.parametrize(
    ("mode", "asked"),
    [("failed", ["tc2", "tc3", "tc4"]), ("all", ["tc1", "tc2", "tc3", "tc4"]), ("none", [])],
)
def test_which_cases_get_a_details_request(mode: str, asked: list[str]) -> None:
    moded = QatechProvider(Secret("t"), project=None, details=mode)
    cases = [
        qatech_case("a", "PASSED", short_id="tc1"),
        qatech_case("b", "FAILED", short_id="tc2"),
        qatech_case("c", "SKIPPED", short_id="tc3"),
        qatech_case("d", None, status="ERROR", short_id="tc4"),
        # Malformed (no shortId): already an error, and there is no id to ask about.
        {"name": "e", "status": "COMPLETED"},
    ]
    run = moded.parse_results("abc123", qatech_run("abc123", "COMPLETED", cases, "FAILED"))
    requests = [(case.key, moded.case_request(case)) for case in run.cases]
    assert [(key, request.request) for key, request in requests if request is not None] == [
        (short_id, ApiRequest(f"/v1/run-test-case/{short_id}")) for short_id in asked
    ]


def test_a_product_failure_gains_its_duration_error_code_and_links() -> None:
    merged = detailed(FAILED_CASE, TC2_DETAILS)
    assert merged == dataclasses.replace(
        only_case(FAILED_CASE),
        error_code="TEST_FAILED",
        duration=42.5,
        started_at="2026-06-10T16:02:11Z",
        completed_at="2026-06-10T16:02:53.500Z",
        links=(
            Link("case", "https://app.qa.tech/case/tc2"),
            Link("screenshot", "https://media.example/tc2.png"),
            Link("recording", "https://media.example/tc2.webm"),
        ),
    )
    run = parse(FAILED_CASE)
    rendered = render_case(run, merged)
    assert rendered.details == (
        "The payment panel stayed empty.\n\n"
        "Goal: Pay with the saved card\n"
        "QA.tech case tc2 in run abc123\n"
        "Error code: TEST_FAILED\n"
        "Case: https://app.qa.tech/case/tc2\n"
        "Screenshot: https://media.example/tc2.png\n"
        "Recording: https://media.example/tc2.webm"
    )
    assert rendered.properties == (
        ("run_short_id", "abc123"),
        ("case_short_id", "tc2"),
        ("prompt_goal", "Pay with the saved card"),
        ("error_code", "TEST_FAILED"),
        ("case_url", "https://app.qa.tech/case/tc2"),
        ("screenshot_url", "https://media.example/tc2.png"),
        ("recording_url", "https://media.example/tc2.webm"),
        ("started_at", "2026-06-10T16:02:11Z"),
        ("completed_at", "2026-06-10T16:02:53.500Z"),
    )


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
            qatech_case("Login", "PASSED", short_id="tc1"),
            "AGENT_LOST",
            "AGENT_LOST: the QA.tech agent could not run this case",
        ),
        # Contradictions are errors, never passes.
        (
            qatech_case("Login", "PASSED", short_id="tc1"),
            "TEST_FAILED",
            "QA.tech gave this case result PASSED but errorCode TEST_FAILED",
        ),
    ],
)
def test_execution_problems_are_errors_not_failures(
    raw: dict[str, Any], code: str, headline: str
) -> None:
    merged = detailed(raw, {"errorCode": code})
    assert (merged.outcome, merged.headline, merged.error_code) == (Outcome.ERROR, headline, code)
    rendered = render_case(parse(raw), merged)
    assert f"Error code: {code}" in rendered.details.splitlines()
    assert ("error_code", code) in rendered.properties


def test_a_skip_stays_a_skip_whatever_its_error_code() -> None:
    skipped = qatech_case("Newsletter", "SKIPPED", title="Flag off", short_id="tc3")
    merged = detailed(skipped, {"errorCode": "AGENT_SKIPPED"})
    assert (merged.outcome, merged.headline) == (Outcome.SKIPPED, "Flag off")


def test_an_empty_error_code_is_no_error_code() -> None:
    merged = detailed(qatech_case("Login", "PASSED", short_id="tc1"), {"errorCode": ""})
    assert (merged.outcome, merged.error_code) == (Outcome.PASSED, None)


def test_a_pass_gains_its_duration() -> None:
    merged = detailed(qatech_case("Login", "PASSED", short_id="tc1"), {"durationMs": 1200})
    assert (merged.outcome, merged.duration) == (Outcome.PASSED, 1.2)


def test_every_field_of_the_details_is_optional() -> None:
    assert detailed(FAILED_CASE, {}) == only_case(FAILED_CASE)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"shortId": "tc9"}, "asked for case tc2, but the API answered with case 'tc9'"),
        (
            {"durationMs": -1},
            "details of case tc2: field 'durationMs' must be a non-negative number or null, "
            "received a number (-1)",
        ),
        (
            {"errorCode": 7},
            "details of case tc2: field 'errorCode' must be a string or null, received a "
            "number (7)",
        ),
        (
            {"recordingUrl": "javascript:alert(1)"},
            "details of case tc2: field 'recordingUrl' is not a web link",
        ),
    ],
)
def test_an_answer_that_does_not_fit_is_refused(answer: dict[str, Any], message: str) -> None:
    with pytest.raises(BodyError) as raised:
        detailed(FAILED_CASE, answer)
    assert str(raised.value) == message


def test_an_answer_that_is_no_object_is_refused() -> None:
    every = QatechProvider(Secret("t"), project=None, details="all")
    run = every.parse_results("abc123", qatech_run("abc123", "COMPLETED", [FAILED_CASE], "FAILED"))
    request = every.case_request(run.cases[0])
    assert request is not None
    with pytest.raises(BodyError, match="details of case tc2: expected a JSON object"):
        request.apply(run.cases[0], ["not", "an", "object"])


# A session that reports each case as it ends polls with testCases=all.


def test_listing_polls_ask_for_every_case_and_are_the_read() -> None:
    assert provider.status_request("abc123", listing=True) == ApiRequest(
        "/v1/run/abc123", (("testCases", "all"),)
    )
    assert provider.results_request("abc123", listing=True) is None


def test_a_running_run_lists_its_cases_each_with_a_verdict_once_it_has_ended() -> None:
    cases = [
        qatech_case("done", "FAILED", title="Broken", short_id="tc1"),
        qatech_case("going", None, status="RUNNING", short_id="tc2"),
        qatech_case("crashed", None, status="ERROR", short_id="tc3"),
        {"name": "odd", "status": ["x"]},
    ]
    progress = provider.parse_status("abc123", qatech_run("abc123", "RUNNING", cases))
    assert (progress.status, progress.finished) == ("RUNNING", False)
    assert progress.cases is not None
    assert [(c.key, c.name) for c in progress.cases] == [
        ("tc1", "done"), ("tc2", "going"), ("tc3", "crashed"), ("#4", "odd"),
    ]  # fmt: skip
    verdicts = [c.verdict and (c.verdict.outcome, c.verdict.headline) for c in progress.cases]
    assert verdicts == [
        (Outcome.FAILED, "Broken"),
        None,
        (Outcome.ERROR, "the case ended ERROR (result None): it produced no verdict"),
        None,
    ]


def test_a_run_without_a_case_list_lists_none() -> None:
    body = qatech_run("abc123", "INITIATED", [])
    del body["runTestCases"]
    assert provider.parse_status("abc123", body).cases is None


def test_a_queued_run_lists_no_case_yet() -> None:
    # With testCases=all the list is always there: empty, it is a run not started yet.
    assert provider.parse_status("abc123", qatech_run("abc123", "INITIATED", [])).cases == ()


REPEATED = [
    qatech_case("Login", short_id="tc1"),
    qatech_case("Checkout", "FAILED", title="No pay button", short_id="tc2"),
    qatech_case("Search", short_id="tc1"),
    qatech_case("Signup", short_id="tc3"),
]
REPEATED_HEADLINE = (
    "QA.tech listed case short id tc1 more than once in run abc123: entry #3 repeats an earlier "
    "one, so it has no verdict of its own"
)


def test_a_repeated_short_id_is_a_case_of_its_own_and_never_a_pass() -> None:
    run = parse(*REPEATED)
    assert [(c.key, c.name, c.outcome) for c in run.cases] == [
        ("tc1", "Login", Outcome.PASSED),
        ("tc2", "Checkout", Outcome.FAILED),
        ("#3", "Search", Outcome.ERROR),
        ("tc3", "Signup", Outcome.PASSED),
    ]
    assert run.cases[2].headline == REPEATED_HEADLINE
    # Its details would be the first entry's: nothing is asked for it.
    assert (
        QatechProvider(Secret("t"), project=None, details="all").case_request(run.cases[2]) is None
    )


def test_a_repeated_short_id_in_a_running_run_is_listed_apart_the_same_way() -> None:
    progress = provider.parse_status("abc123", qatech_run("abc123", "RUNNING", REPEATED))
    assert progress.cases is not None
    assert [c.key for c in progress.cases] == ["tc1", "tc2", "#3", "tc3"]
    repeated = progress.cases[2].verdict
    assert repeated is not None
    assert (repeated.outcome, repeated.headline) == (Outcome.ERROR, REPEATED_HEADLINE)


# Configuration: QatechProvider.configure, from the options, ini keys and environment.


def configured(cli: dict[str, Any], environ: dict[str, str] | None = None) -> QatechProvider:
    env = {"QATECH_API_TOKEN": "t0ken"} if environ is None else environ
    source = QatechProvider.configure(["abc123"], Lookup(cli.get, lambda name: "", env))
    assert isinstance(source.provider, QatechProvider)
    return source.provider


def refused(cli: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(SettingsError) as raised:
        configured(cli, environ)
    return str(raised.value)


def test_configure_carries_every_setting_of_the_provider() -> None:
    chosen = configured({"qatech_details": "all", "qatech_reruns_only": "execution",
                         "qatech_trace_steps": "7", "qatech_project": "shop"})  # fmt: skip
    assert (chosen.details, chosen.reruns_only, chosen.trace_steps, chosen.project) == (
        "all", "execution", 7, "shop",
    )  # fmt: skip
    assert configured({"qatech_details": "none"}).details == "none"


def test_configure_refuses_what_cannot_work_and_says_what_is_expected() -> None:
    assert refused({}, {}) == (
        "--qatech-run needs an API token: set QATECH_API_TOKEN (or QATECH_API_KEY) in the "
        "environment to the project's token from QA.tech Settings -> Integrations -> API. It is "
        "read only from the environment, never from the command line or an ini file."
    )
    assert refused({"qatech_project": "a/b"}) == (
        "--qatech-project 'a/b' is not a project slug (as in https://app.qa.tech/p/<slug>/...): "
        "expected 1 to 128 letters, digits, '-' or '_'"
    )
    assert refused({"qatech_reruns_only": "execution", "qatech_details": "none"}) == (
        "--qatech-reruns-only execution tells an execution miss by the errorCode of the case's "
        "details, which --qatech-details none does not read: use --qatech-details failed (the "
        "default) or all"
    )
    with pytest.raises(
        SettingsError, match=r"'\.\./x' is not a run short id \(the shortId returned"
    ):
        QatechProvider.configure(
            ["../x"], Lookup(lambda n: None, lambda n: "", {"QATECH_API_TOKEN": "t"})
        )


@pytest.mark.parametrize(
    ("reruns_only", "details"), [("all", "none"), ("execution", "failed"), ("execution", "all")]
)
def test_configure_allows_every_other_pair_of_reruns_only_and_details(
    reruns_only: str, details: str
) -> None:
    assert configured({"qatech_reruns_only": reruns_only, "qatech_details": details})


def test_every_failed_case_may_change_on_a_rerun_of_all_of_them() -> None:
    product = RemoteCase("a", Outcome.FAILED, "x", error_code="TEST_FAILED")
    assert dataclasses.replace(provider, reruns_only="all").reruns_again(product)
    assert not dataclasses.replace(provider, reruns_only="execution").reruns_again(product)


def test_a_status_poll_checks_the_run_s_result_and_names_its_malformed_cases() -> None:
    with pytest.raises(BodyError, match="run abc123: field 'result' must be a string"):
        provider.parse_status("abc123", {**qatech_run("abc123", "RUNNING"), "result": 7})
    ended = {**qatech_case("x", short_id="t2"), "name": 7}  # ended: it has its verdict
    body = qatech_run("abc123", "RUNNING", [qatech_case("ok", short_id="t1"), ended])
    progress = provider.parse_status("abc123", body)
    assert progress.cases is not None
    malformed = progress.cases[1]
    assert (malformed.key, malformed.name) == ("t2", "case #2")
    assert malformed.verdict is not None
    assert malformed.verdict.headline == (
        "case #2 of run abc123: field 'name' must be a string, received a number (7)"
    )


def test_a_repeated_entry_without_a_name_goes_by_its_place() -> None:
    entries = [*REPEATED[:2], {**REPEATED[2], "name": None}, REPEATED[3]]
    run = parse(*entries)
    assert [(case.key, case.name) for case in run.cases] == [
        ("tc1", "Login"), ("tc2", "Checkout"), ("#3", "case #3"), ("tc3", "Signup"),
    ]  # fmt: skip
    progress = provider.parse_status("abc123", qatech_run("abc123", "RUNNING", REPEATED))
    assert progress.cases is not None
    assert [case.name for case in progress.cases] == ["Login", "Checkout", "Search", "Signup"]


def test_a_malformed_case_keeps_its_short_id_and_every_case_its_result_field() -> None:
    broken = {**qatech_case("broken", short_id="t3"), "status": None}
    no_result = {k: v for k, v in qatech_case("r", short_id="t4").items() if k != "result"}
    examples = {**qatech_case("e", short_id="t5"), "promptExamples": 7}
    run = parse(qatech_case("good", short_id="t1"), broken, no_result, examples)
    assert [case.key for case in run.cases] == ["t1", "t3", "t4", "t5"]
    assert [case.outcome for case in run.cases[1:]] == [Outcome.ERROR] * 3
    assert "required field 'result' is missing" in run.cases[2].headline
    assert "field 'promptExamples' must be a string" in run.cases[3].headline


def test_a_run_whose_case_list_is_not_a_list_says_what_it_was() -> None:
    with pytest.raises(BodyError, match=r"received a string \('x'\)"):
        provider.parse_results("abc123", {**qatech_run("abc123", "COMPLETED"), "runTestCases": "x"})


def test_a_details_link_may_be_plain_http() -> None:
    merged = detailed(FAILED_CASE, {**TC2_DETAILS, "url": "http://app.qa.tech/case/tc2"})
    assert merged.links[0] == Link("case", "http://app.qa.tech/case/tc2")


def test_a_listing_gives_each_case_s_short_id_where_it_has_a_readable_one() -> None:
    body = qatech_run("abc123", "RUNNING", [
        qatech_case("a", short_id="t1", status="RUNNING"),
        qatech_case("b", short_id="t2"),
        {**qatech_case("c", short_id="../x", status="RUNNING")},
    ])  # fmt: skip
    progress = provider.parse_status("abc123", body)
    assert [(c.key, c.case_id) for c in progress.cases or ()] == [
        ("t1", "t1"), ("t2", "t2"), ("#3", None),
    ]  # fmt: skip
    ended = provider.parse_status("abc123", qatech_run("abc123", "RUNNING", REPEATED))
    assert [c.case_id for c in ended.cases or ()] == ["tc1", "tc2", None, "tc3"]
