"""TestVibe: the parser and the words against its get_run reference, and one session against the
simulator (under xdist) for the wiring."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.models import Artifact, Outcome
from pytest_qatech.core.providers.body import BodyError
from pytest_qatech.core.providers.testvibe import TestVibeProvider
from pytest_qatech.core.rendering import render_case
from pytest_qatech.core.secrets import Secret
from pytest_qatech.simulator import Simulator, demo_runs

from .helpers import FAST, run_session

provider = TestVibeProvider(Secret("k"), "proj")


def reference_body(**changes: Any) -> dict[str, Any]:
    """The example answer of TestVibe's get_run reference, with a two-line error."""
    body: dict[str, Any] = {
        "runId": 214,
        "status": "failed",
        "featureId": 12,
        "featureName": "Login Functionality",
        "config": "Default",
        "siteUrl": "https://shop.acme.example",
        "createdUtc": "2026-06-10T16:02:11Z",
        "startedUtc": "2026-06-10T16:02:19Z",
        "finishedUtc": "2026-06-10T16:02:54Z",
        "summary": {"total": 3, "passed": 2, "failed": 1, "other": 0},
        "tests": [
            {"name": "Valid user signs in", "status": "passed", "durationMs": 4210, "error": None},
            {"name": "Invalid password is rejected", "status": "passed", "durationMs": 3804},
            {
                "name": "Locked-out user sees an error",
                "status": "failed",
                "durationMs": 9120,
                "error": "expect(locator).toBeVisible() failed\nCall log:\n  - waiting",
            },
        ],
        "artifacts": [
            {"kind": "trace", "path": "trace/locked-out-user.zip", "size": 482133},
            {"kind": "screenshot", "path": "screenshots/locked-out-user.png", "size": 88241},
        ],
        "log": "runner output",
    }
    body.update(changes)
    return body


def test_requests_and_credentials() -> None:
    assert provider.status_request("214") == ApiRequest("/api/v1/ops/projects/proj/runs/214")
    # The last status answer holds the results: no second request.
    assert provider.results_request("214") is None
    assert provider.auth_headers()["Authorization"].reveal() == "Bearer k"


def test_the_reference_example() -> None:
    run = provider.parse_results("214", reference_body())
    assert (run.provider, run.run_id, run.status, run.result, run.problem) == (
        "testvibe", "214", "failed", None, None,
    )  # fmt: skip
    assert [(c.name, c.outcome, c.duration) for c in run.cases] == [
        ("Valid user signs in", Outcome.PASSED, 4.21),
        ("Invalid password is rejected", Outcome.PASSED, 3.804),
        ("Locked-out user sees an error", Outcome.FAILED, 9.12),
    ]
    assert run.context == (
        ("feature", "Login Functionality"),
        ("config", "Default"),
        ("site_url", "https://shop.acme.example"),
    )
    assert run.artifacts == (
        Artifact("trace", "trace/locked-out-user.zip", 482133),
        Artifact("screenshot", "screenshots/locked-out-user.png", 88241),
    )
    assert run.log == "runner output"


def test_a_failure_in_words() -> None:
    run = provider.parse_results("214", reference_body())
    rendered = render_case(run, run.cases[2])
    assert rendered.text == (
        "expect(locator).toBeVisible() failed\n\n"
        "Call log:\n  - waiting\n\n"
        "Artifacts (download links: testvibe runs artifacts):\n"
        "  trace       trace/locked-out-user.zip (482,133 bytes)\n"
        "  screenshot  screenshots/locked-out-user.png (88,241 bytes)\n\n"
        "TestVibe run 214 (feature 'Login Functionality', config 'Default', "
        "site https://shop.acme.example)"
    )
    assert rendered.sections == (("TestVibe run log", "runner output"),)
    assert rendered.properties == (
        ("run_id", "214"),
        ("feature", "Login Functionality"),
        ("config", "Default"),
        ("site_url", "https://shop.acme.example"),
    )
    passed = render_case(run, run.cases[0])
    assert (passed.details, passed.sections) == ("", ())
    assert passed.properties == rendered.properties


def test_a_passed_run_has_no_log() -> None:
    body = reference_body(status="passed", tests=reference_body()["tests"][:2])
    body["summary"] = {"total": 2, "passed": 2, "failed": 0, "other": 0}
    assert provider.parse_results("214", body).log is None


@pytest.mark.parametrize(
    ("status", "outcome", "headline"),
    [
        ("skipped", Outcome.SKIPPED, "skipped by TestVibe"),
        ("timedOut", Outcome.ERROR, "the test ended 'timedOut', neither passed nor failed"),
        ("interrupted", Outcome.ERROR, "the test ended 'interrupted', neither passed nor failed"),
    ],
)
def test_other_test_statuses_are_what_they_are_never_a_pass(
    status: str, outcome: Outcome, headline: str
) -> None:
    tests = [{"name": "t", "status": status, "durationMs": 5, "error": None}]
    body = reference_body(tests=tests, summary={"total": 1, "passed": 0, "failed": 0, "other": 1})
    run = provider.parse_results("214", body)
    (case,) = run.cases
    assert (case.outcome, case.headline) == (outcome, headline)
    # The run's log goes with an error, not with a skip.
    assert bool(render_case(run, case).sections) is (outcome is Outcome.ERROR)


def test_a_reason_is_kept_for_a_test_without_a_verdict() -> None:
    tests = [{"name": "t", "status": "timedOut", "durationMs": 5, "error": "Test timeout of 3s"}]
    body = reference_body(tests=tests, summary={"total": 1, "passed": 0, "failed": 0, "other": 1})
    (case,) = provider.parse_results("214", body).cases
    assert case.headline == (
        "the test ended 'timedOut', neither passed nor failed: Test timeout of 3s"
    )


def test_a_failed_test_without_an_error_still_fails() -> None:
    tests = [{"name": "t", "status": "failed", "durationMs": 5, "error": None}]
    body = reference_body(tests=tests, summary={"total": 1, "passed": 0, "failed": 1, "other": 0})
    (case,) = provider.parse_results("214", body).cases
    assert case.outcome is Outcome.FAILED
    assert case.headline == "TestVibe marked this test failed without an error message"


def test_a_malformed_test_is_an_error_and_the_others_are_kept() -> None:
    tests = [*reference_body()["tests"], {"name": "broken", "status": 3}]
    body = reference_body(tests=tests, summary={"total": 4, "passed": 2, "failed": 1, "other": 1})
    cases = provider.parse_results("214", body).cases
    assert [c.outcome for c in cases] == [
        Outcome.PASSED, Outcome.PASSED, Outcome.FAILED, Outcome.ERROR,
    ]  # fmt: skip
    assert cases[3].headline == (
        "test #4 of run 214: field 'status' must be a string, received a number (3)"
    )


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"status": "cancelled"},
            "TestVibe run 214 has status 'cancelled', which the TestVibe API reference does not "
            "list (running, passed, failed)",
        ),
        (
            {"tests": [{"name": "t", "status": "passed", "durationMs": 1, "error": None}],
             "summary": {"total": 1, "passed": 1, "failed": 0, "other": 0}},
            "TestVibe run 214 failed, but none of its 1 tests failed",
        ),
        (
            {"status": "passed", "summary": {"total": 5, "passed": 5, "failed": 0, "other": 0}},
            "TestVibe run 214: its summary counts 5 tests, but it lists 3; the missing ones "
            "have no verdict",
        ),
    ],
)  # fmt: skip
def test_a_run_that_cannot_be_green_says_why(changes: dict[str, Any], problem: str) -> None:
    assert provider.parse_results("214", reference_body(**changes)).problem == problem


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (reference_body(runId=215), "asked for run 214, but the API answered with run 215"),
        (
            reference_body(runId="214"),
            "run 214: field 'runId' must be an integer, received a string ('214')",
        ),
        (
            {**reference_body(), "tests": None},
            "run 214: field 'tests' must be a list, received null",
        ),
        (
            {k: v for k, v in reference_body().items() if k != "tests"},
            "run 214: required field 'tests' is missing",
        ),
        (
            reference_body(summary={"total": "3"}),
            "run 214, field 'summary': field 'total' must be an integer, received a string ('3')",
        ),
        ([], "run 214: expected a JSON object, received a list of 0"),
    ],
)
def test_unusable_bodies_name_the_field(body: object, message: str) -> None:
    with pytest.raises(BodyError) as raised:
        provider.parse_results("214", body)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("status", "finished"),
    [("running", False), ("passed", True), ("failed", True), ("queued?", True)],
)
def test_status(status: str, finished: bool) -> None:
    progress = provider.parse_status("214", {"runId": 214, "status": status})
    assert (progress.status, progress.finished) == (status, finished)


def test_a_malformed_artifact_entry_is_listed_as_such() -> None:
    run = provider.parse_results("214", reference_body(artifacts=[{"kind": "trace", "path": "t"}]))
    assert "  (artifact #1: required field 'size' is missing)" in (
        render_case(run, run.cases[2]).details.splitlines()
    )


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "check TESTVIBE_API_KEY: it is missing, mistyped or revoked"),
        (403, "check that TESTVIBE_API_KEY has access to this project"),
        (
            404,
            "check the run id and --testvibe-project (TESTVIBE_PROJECT): the run must belong "
            "to that project",
        ),
        (500, None),
    ],
)
def test_hints(status: int, hint: str | None) -> None:
    assert provider.hint(status) == hint


def test_a_testvibe_run_as_pytest_items(simulator: Simulator, pytester: pytest.Pytester) -> None:
    # Under xdist too: test_mixed.py's wide session.
    (run,) = (r for r in demo_runs() if r.path.endswith("/runs/214"))
    simulator.add(run)
    result = run_session(
        pytester, *FAST, "--testvibe-run", "214", "--junitxml=report.xml", "--durations=2"
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "qatech: TestVibe runs 214 from http://127.0.0.1:*",
            "*_ testvibe Locked-out user sees an error _*",
            "expect(locator).toBeVisible() failed *not found within 5000ms",
            "",
            "Artifacts (download links: testvibe runs artifacts):",
            "  trace       trace/locked-out-user.zip (482,133 bytes)",
            "  screenshot  screenshots/locked-out-user.png (88,241 bytes)",
            "",
            "TestVibe run 214 (feature 'Login Functionality', config 'Default', *)",
            "*- Captured TestVibe run log call -*",
            "[[]16:02:45] Locked-out user sees an error",
            "*= remote runs =*",
            "TestVibe run 214: failed - 2 passed, 1 failed",
            "*slowest 2 durations*",
            "9.12s call     testvibe::Locked-out user sees an error",
            "4.21s call     testvibe::Valid user signs in",
            "FAILED testvibe::Locked-out user sees an error - expect(locator)*",
        ]
    )
    # The last status answer holds the results: three status requests, nothing more.
    assert len(simulator.requests) == 3
    assert all(request.authorized for request in simulator.requests)
    cases = ET.parse(pytester.path / "report.xml").getroot().iter("testcase")
    # xdist writes them in the order they finish.
    assert sorted((c.get("classname"), c.get("name"), c.get("time")) for c in cases) == [
        ("testvibe", "Invalid password is rejected", "3.804"),
        ("testvibe", "Locked-out user sees an error", "9.120"),
        ("testvibe", "Valid user signs in", "4.210"),
    ]
