"""TestVibe: the parser against its get_run reference, and pytest sessions against the simulator."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from pytest_qatech.models import Outcome
from pytest_qatech.providers import BodyError
from pytest_qatech.providers.testvibe import LOG_SECTION, TestVibeProvider
from pytest_qatech.settings import Secret
from pytest_qatech.simulator import Answer, SimulatedTestVibeRun, Simulator, demo_runs, vibe_test

from .conftest import FAST

provider = TestVibeProvider(Secret("k"), "proj")


def reference_body(**changes: Any) -> dict[str, Any]:
    """The example answer of TestVibe's get_run reference."""
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
    failed = run.cases[2]
    assert failed.headline == "expect(locator).toBeVisible() failed"
    assert failed.details.startswith("Call log:\n  - waiting\n\nArtifacts")
    assert "  trace       trace/locked-out-user.zip (482,133 bytes)" in failed.details
    assert "  screenshot  screenshots/locked-out-user.png (88,241 bytes)" in failed.details
    assert failed.details.endswith(
        "TestVibe run 214 (feature 'Login Functionality', config 'Default', "
        "site https://shop.acme.example)"
    )
    assert failed.sections == ((LOG_SECTION, "runner output"),)
    assert run.cases[0].sections == ()
    assert ("site_url", "https://shop.acme.example") in failed.properties


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
    (case,) = provider.parse_results("214", body).cases
    assert (case.outcome, case.headline) == (outcome, headline)


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
        (reference_body(runId="214"), "field 'runId' must be an integer, received a string"),
        ({**reference_body(), "tests": None}, "field 'tests' must be a list, received null"),
        ({k: v for k, v in reference_body().items() if k != "tests"}, "'tests' is missing"),
        (reference_body(summary={"total": "3"}), "field 'total' must be an integer"),
        ([], "run 214: expected a JSON object, received a list of 0"),
    ],
)
def test_unusable_bodies_name_the_field(body: object, message: str) -> None:
    with pytest.raises(BodyError, match=message):
        provider.parse_results("214", body)


@pytest.mark.parametrize(
    ("status", "finished"),
    [("running", False), ("passed", True), ("failed", True), ("queued?", True)],
)
def test_status(status: str, finished: bool) -> None:
    progress = provider.parse_status("214", {"runId": 214, "status": status})
    assert (progress.status, progress.finished) == (status, finished)


def test_a_malformed_artifact_entry_is_listed_as_such() -> None:
    body = reference_body(artifacts=[{"kind": "trace", "path": "t.zip"}])
    failed = provider.parse_results("214", body).cases[2]
    assert "  (artifact #1: required field 'size' is missing)" in failed.details


def reference_run() -> SimulatedTestVibeRun:
    (run,) = (r for r in demo_runs() if isinstance(r, SimulatedTestVibeRun) and r.run_id == 214)
    return run


@pytest.mark.parametrize("extra", [(), ("-n", "2")])
def test_a_testvibe_run_as_pytest_items(
    simulator: Simulator, pytester: pytest.Pytester, extra: tuple[str, ...]
) -> None:
    simulator.add(reference_run())
    result = pytester.runpytest_subprocess(
        *FAST, *extra, "--testvibe-run", "214", "--junitxml=report.xml", "-rf"
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "qatech: TestVibe runs 214 from http://127.0.0.1:*",
            "*_ testvibe 214: Locked-out user sees an error _*",
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
            "FAILED testvibe::214::Locked-out user sees an error - expect(locator)*",
        ]
    )
    # The last status answer holds the results: three status requests, nothing more.
    assert len(simulator.requests) == 3
    assert all(request.authorized for request in simulator.requests)
    cases = ET.parse(pytester.path / "report.xml").getroot().iter("testcase")
    # xdist writes them in the order they finish.
    assert sorted((c.get("classname"), c.get("name"), c.get("time")) for c in cases) == [
        ("testvibe.214", "Invalid password is rejected", "3.804"),
        ("testvibe.214", "Locked-out user sees an error", "9.120"),
        ("testvibe.214", "Valid user signs in", "4.210"),
    ]


def test_remote_durations_show_in_durations(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(reference_run())
    result = pytester.runpytest_inprocess(*FAST, "--testvibe-run", "214", "--durations=2")
    result.stdout.fnmatch_lines(
        [
            "*slowest 2 durations*",
            "9.12s call     testvibe::214::Locked-out user sees an error",
            "4.21s call     testvibe::214::Valid user signs in",
        ]
    )


@pytest.mark.parametrize(
    ("expression", "passed"), [("testvibe", 2), ("remote", 2), ("not testvibe", 1)]
)
def test_markers(
    simulator: Simulator, pytester: pytest.Pytester, expression: str, passed: int
) -> None:
    simulator.add(SimulatedTestVibeRun(7, tests=[vibe_test("a"), vibe_test("b")]))
    pytester.makepyfile(test_local="def test_local():\n    pass\n")
    result = pytester.runpytest_inprocess(*FAST, "--testvibe-run", "7", "-m", expression)
    result.assert_outcomes(passed=passed)


def test_an_unknown_run_is_a_404_collection_error(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(SimulatedTestVibeRun(7, tests=[vibe_test("a")]))
    result = pytester.runpytest_inprocess(
        *FAST, "--testvibe-run", "8", "--testvibe-run", "7", "--continue-on-collection-errors"
    )
    result.assert_outcomes(passed=1, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR collecting testvibe _*",
            "TestVibe run 8 could not be read: GET http://127.0.0.1:*/api/v1/ops/projects/"
            'demo-project/runs/8 failed: HTTP 404 Not Found: "No such run in this project."',
            "hint: check the run id and --testvibe-project (TESTVIBE_PROJECT)*",
        ]
    )


def test_a_bad_key_is_a_401_collection_error(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESTVIBE_API_KEY", "wrong")
    simulator.add(SimulatedTestVibeRun(7, tests=[vibe_test("a")]))
    result = pytester.runpytest_inprocess(*FAST, "--testvibe-run", "7")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ['*HTTP 401 Unauthorized: "Invalid API key"', "hint: check TESTVIBE_API_KEY*"]
    )


def test_retries_and_other_statuses_are_shared_with_qatech(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    run = SimulatedTestVibeRun(
        7,
        tests=[vibe_test("a"), vibe_test("b", "timedOut", error="Test timeout of 30000ms")],
        answers={1: Answer(503, "busy", {"Retry-After": "0"})},
    )
    simulator.add(run)
    result = pytester.runpytest_inprocess(*FAST, "--testvibe-run", "7")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "qatech: GET http://127.0.0.1:*/runs/7: HTTP 503 Service Unavailable*; trying again*",
            "_* ERROR at setup of testvibe 7: b _*",
            "the test ended 'timedOut', neither passed nor failed: Test timeout of 30000ms",
            "ERROR testvibe::7::b - the test ended 'timedOut', neither passed nor failed*",
        ]
    )


def test_a_missing_server_is_a_usage_error_that_names_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESTVIBE_API_KEY", "k")
    monkeypatch.setenv("TESTVIBE_PROJECT", "p")
    result = pytester.runpytest_inprocess("--testvibe-run", "214")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--testvibe-run needs the TestVibe server: set --testvibe-server*"]
    )


def test_settings_from_ini(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TESTVIBE_SERVER")
    monkeypatch.delenv("TESTVIBE_PROJECT")
    pytester.makeini(
        f"[pytest]\ntestvibe_server = {simulator.url}\ntestvibe_project = other-project\n"
    )
    simulator.add(SimulatedTestVibeRun(7, tests=[vibe_test("a")], project="other-project"))
    result = pytester.runpytest_inprocess(*FAST, "--testvibe-run", "7")
    result.assert_outcomes(passed=1)
