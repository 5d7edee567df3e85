"""The pytest plugin end to end: real sessions (pytester) against the simulator on 127.0.0.1.

Verdicts, texts, retries and timeouts are decided by the core and tested there; these sessions
prove the wiring: items beside local tests, selection, JUnit, exit codes, hooks and xdist.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_qatech.simulator import Answer, SimulatedRun, Simulator, case
from pytest_qatech.simulator.demo import demo_project
from pytest_qatech.simulator.testvibe import SimulatedTestVibeRun, vibe_test

from .helpers import (
    FAST,
    LOCAL_TEST,
    MIXED_RUN_REQUESTS,
    TC2_DETAILS,
    XDIST,
    mixed_run,
    progress_marks,
    requests_made,
    run_session,
)


def inprocess(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*FAST, *args)


def detailed_mixed_run() -> SimulatedRun:
    run = mixed_run()
    run.details["tc2"] = TC2_DETAILS
    run.details["tc3"] = {"durationMs": 1_250}
    return run


def test_remote_cases_are_items_beside_local_tests(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(detailed_mixed_run())
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = inprocess(pytester, "--qatech-run", "abc123")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "qatech: QA.tech runs abc123 from http://127.0.0.1:*",
            "qatech: QA.tech run abc123 is INITIATED (*s)",
            "collected 4 items",
            "test_local.py .*",
            "*_ qatech Checkout _*",
            "Could not find login button",
            "",
            "The login button was not visible on the page.",
            "",
            "Goal: Test the checkout flow",
            "QA.tech case tc2 in run abc123",
            "Error code: TEST_FAILED",
            "Case: https://app.qa.tech/case/tc2",
            "Screenshot: https://media.example/tc2.png",
            "Recording: https://media.example/tc2.webm",
            "*= remote runs =*",
            "QA.tech run abc123: COMPLETED, result FAILED - 1 passed, 1 failed, 1 skipped",
            "*short test summary info*",
            "FAILED qatech::Checkout - Could not find login button",
        ]
    )
    assert progress_marks(result) == ".Fs"
    # While collecting, or while the first remote item waits: the run goes on meanwhile.
    result.stdout.fnmatch_lines(
        [
            "qatech: QA.tech run abc123 is INITIATED (*s)",
            "qatech: QA.tech run abc123 is RUNNING (*s)",
            "qatech: QA.tech run abc123 is COMPLETED (*s)",
        ]
    )
    output = result.stdout.str()
    assert "Traceback" not in output
    assert "items.py" not in output
    assert "app.qa.tech/p/" not in output  # no project, no dashboard links


def test_a_green_run_gives_a_green_session(simulator: Simulator, pytester: pytest.Pytester) -> None:
    simulator.add(SimulatedRun("green", cases=[case("a"), case("b")]))
    result = inprocess(pytester, "--qatech-run", "green")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK


def test_exactly_the_documented_requests(simulator: Simulator, pytester: pytest.Pytester) -> None:
    simulator.add(mixed_run())
    inprocess(pytester, "--qatech-run", "abc123")
    # INITIATED, RUNNING, COMPLETED, each with the cases listed, then the details of the
    # failed and the skipped case, not of the pass.
    assert requests_made(simulator) == MIXED_RUN_REQUESTS
    assert all(request.authorized for request in simulator.requests)


def test_quiet_quiet_prints_no_sign_of_life(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(mixed_run())
    result = inprocess(pytester, "--qatech-run", "abc123", "-qq")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert not [line for line in result.outlines if line.startswith("qatech:")]
    assert "remote runs" not in result.stdout.str()


def collected_node_ids(simulator: Simulator, pytester: pytest.Pytester) -> list[str]:
    """The node ids that ``--collect-only -q`` lists for the mixed run."""
    simulator.add(mixed_run())
    result = inprocess(pytester, "--qatech-run", "abc123", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    return [line for line in result.outlines if line.startswith("qatech::")]


def test_collect_only_lists_node_ids(simulator: Simulator, pytester: pytest.Pytester) -> None:
    assert collected_node_ids(simulator, pytester) == [
        "qatech::Login flow test",
        "qatech::Checkout",
        "qatech::Newsletter",
    ]


def test_k_matches_the_case_name(simulator: Simulator, pytester: pytest.Pytester) -> None:
    simulator.add(mixed_run())
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = inprocess(pytester, "--qatech-run", "abc123", "-k", "login", "-v")
    result.assert_outcomes(passed=1, deselected=3)
    result.stdout.fnmatch_lines(["qatech::Login flow test PASSED*"])


@pytest.mark.parametrize(
    ("expression", "outcomes"),
    [
        ("qatech", {"passed": 1, "failed": 1, "skipped": 1, "deselected": 1}),
        ("not remote", {"passed": 1, "deselected": 3}),
    ],
)
def test_markers_select_either_side(
    simulator: Simulator, pytester: pytest.Pytester, expression: str, outcomes: dict[str, int]
) -> None:
    simulator.add(mixed_run())
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = inprocess(pytester, "--qatech-run", "abc123", "-m", expression, "--strict-markers")
    result.assert_outcomes(**outcomes)


def test_deselect_by_node_id(simulator: Simulator, pytester: pytest.Pytester) -> None:
    simulator.add(mixed_run())
    result = inprocess(pytester, "--qatech-run", "abc123", "--deselect", "qatech::Checkout")
    result.assert_outcomes(passed=1, skipped=1, deselected=1)
    assert result.ret == pytest.ExitCode.OK


def test_last_failed_and_failed_first(simulator: Simulator, pytester: pytest.Pytester) -> None:
    failing = case("Checkout [EU] :: card", "FAILED", title="Declined")
    simulator.add(SimulatedRun("abc123", "FAILED", [case("Login"), failing, case("Search")]))
    pytester.makepyfile(test_local=LOCAL_TEST)
    first = inprocess(pytester, "--qatech-run", "abc123")
    first.assert_outcomes(passed=3, failed=1)

    again = inprocess(pytester, "--qatech-run", "abc123", "--lf", "-v")
    again.assert_outcomes(failed=1, deselected=3)
    again.stdout.fnmatch_lines(
        ["run-last-failure: rerun previous 1 failure*", "*Checkout (EU) : card FAILED*"]
    )

    first_first = inprocess(pytester, "--qatech-run", "abc123", "--ff", "-v")
    first_first.assert_outcomes(passed=3, failed=1)
    # Failed first among the remote items, which still run after the local tests.
    first_first.stdout.fnmatch_lines(
        ["*test_local.py::test_local PASSED*", "qatech::Checkout (EU) : card FAILED*"]
    )


def assert_junit(path: Path) -> None:
    cases = {
        (element.get("classname"), element.get("name")): element
        for element in ET.parse(path).getroot().iter("testcase")
    }
    assert set(cases) == {
        ("test_local", "test_local"),
        ("qatech", "Login flow test"),
        ("qatech", "Checkout"),
        ("qatech", "Newsletter"),
    }
    failed = cases["qatech", "Checkout"]
    failure = failed.find("failure")
    assert failure is not None
    assert failure.get("message") == "Could not find login button"
    assert failure.text is not None
    assert "The login button was not visible on the page." in failure.text
    assert "Recording: https://media.example/tc2.webm" in failure.text
    properties = {p.get("name"): p.get("value") for p in failed.iter("property")}
    assert properties == {
        "run_short_id": "abc123",
        "case_short_id": "tc2",
        "prompt_goal": "Test the checkout flow",
        "error_code": "TEST_FAILED",
        "case_url": "https://app.qa.tech/case/tc2",
        "screenshot_url": "https://media.example/tc2.png",
        "recording_url": "https://media.example/tc2.webm",
        "started_at": "2026-06-10T16:02:11Z",
        "completed_at": "2026-06-10T16:02:53.500Z",
        # No earlier session saw it (a new pytester folder, a new cache).
        "new_failure": "true",
    }
    # JUnit's time is how long the case ran on QA.tech.
    assert failed.get("time") == "42.500"
    skipped = cases["qatech", "Newsletter"]
    assert skipped.get("time") == "1.250"
    skip = skipped.find("skipped")
    assert skip is not None
    assert skip.get("message") == "Feature flag off"
    assert list(cases["qatech", "Login flow test"].iter("failure")) == []


def test_junit_report(simulator: Simulator, pytester: pytest.Pytester) -> None:
    simulator.add(detailed_mixed_run())
    pytester.makepyfile(test_local=LOCAL_TEST)
    inprocess(pytester, "--qatech-run", "abc123", "--junitxml=report.xml")
    assert_junit(pytester.path / "report.xml")


def test_junit_report_and_requests_under_xdist(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(detailed_mixed_run())
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = run_session(
        pytester, *FAST, "--qatech-run", "abc123", "-n", "2", "--junitxml=report.xml"
    )
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["FAILED qatech::Checkout - Could not find login button"])
    assert_junit(pytester.path / "report.xml")
    # The same requests as without xdist: only the controller talks to the API.
    assert requests_made(simulator) == MIXED_RUN_REQUESTS
    assert result.stdout.str().count("= remote runs =") == 1
    assert result.stdout.str().count("qatech: QA.tech runs abc123 from") == 1


def test_durations_are_the_remote_ones(simulator: Simulator, pytester: pytest.Pytester) -> None:
    simulator.add(detailed_mixed_run())
    result = inprocess(pytester, "--qatech-run", "abc123", "--durations=0", "-vv")
    # On the phase that gives the verdict: call for a failure, setup for a skip.
    result.stdout.fnmatch_lines_random(
        ["42.50s call *qatech::Checkout", "1.25s setup *qatech::Newsletter"]
    )


def test_a_run_that_ended_badly_is_never_green(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(SimulatedRun("abc123", None, [case("a")], statuses=("RUNNING", "ERROR")))
    result = inprocess(pytester, "--qatech-run", "abc123", "-rE")
    result.assert_outcomes(passed=1, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of qatech (run) _*",
            "QA.tech run abc123 ended ERROR (result None)",
            "",
            "The run reported 1 case: 1 passed.",
            "QA.tech run abc123: ERROR - 1 passed",
            "ERROR qatech::(run) - QA.tech run abc123 ended ERROR (result None)",
        ]
    )


def test_an_empty_cancelled_run_is_not_green(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(SimulatedRun("abc123", None, [], statuses=("CANCELLED",)))
    result = inprocess(pytester, "--qatech-run", "abc123")
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_cases_without_a_verdict_are_errors(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    cases = [
        case("crashed", None, status="ERROR", title="Agent lost the browser"),
        case("strange", "WEIRD"),
        case("blank failure", "FAILED"),
    ]
    simulator.add(SimulatedRun("abc123", "FAILED", cases, details={}))
    result = inprocess(pytester, "--qatech-run", "abc123", "-rEf", "--qatech-details=none")
    result.assert_outcomes(errors=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of qatech crashed _*",
            "the case ended ERROR (result None): it produced no verdict",
            "",
            "Agent lost the browser",
            "*_ ERROR at setup of qatech strange _*",
            "the case has result 'WEIRD', which the QA.tech API reference does not list*",
            "*_ qatech blank failure _*",
            "QA.tech marked this case FAILED without a resultTitle",
            "",
            "QA.tech case *",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_an_agent_failure_is_a_pytest_error_and_a_junit_error(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    run = mixed_run()
    run.details["tc2"] = {"errorCode": "AGENT_TIMEOUT"}
    simulator.add(run)
    result = inprocess(pytester, "--qatech-run", "abc123", "-rE", "--junitxml=report.xml")
    result.assert_outcomes(passed=1, errors=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of qatech Checkout _*",
            "AGENT_TIMEOUT: the QA.tech agent could not run this case "
            "(Could not find login button)",
            "",
            "The login button was not visible on the page.",
            "*",
            "Error code: AGENT_TIMEOUT",
        ]
    )
    testcase = next(
        element
        for element in ET.parse(pytester.path / "report.xml").getroot().iter("testcase")
        if element.get("name") == "Checkout"
    )
    assert [child.tag for child in testcase if child.tag != "properties"] == ["error"]


def test_missing_details_degrade_with_a_warning(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(SimulatedRun("abc123", "FAILED", mixed_run().cases, details={"tc2": None}))
    result = inprocess(pytester, "--qatech-run", "abc123")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "qatech: warning: QA.tech run abc123: the details of 1 of 2 cases could not be read, "
            "so they are reported as the run endpoint described them; the first problem: GET "
            'http://127.0.0.1:*/v1/run-test-case/tc2 failed: HTTP 404 Not Found: "Test case '
            'not found"',
            "FAILED qatech::Checkout - Could not find login button",
        ]
    )
    assert "Error code:" not in result.stdout.str()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            Answer(401, {"message": "Missing or invalid API key"}),
            [
                "QA.tech run abc123 could not be read: GET http://127.0.0.1:*/v1/run/abc123 "
                'failed: HTTP 401 Unauthorized: "Missing or invalid API key"',
                "hint: check QATECH_API_TOKEN: it is missing, mistyped or revoked",
            ],
        ),
        (
            Answer(200, "<html>proxy login</html>"),
            [
                "QA.tech run abc123 could not be read: GET http://127.0.0.1:*/v1/run/abc123 "
                "failed: the answer is not JSON (text/html*proxy login*"
            ],
        ),
    ],
)
def test_api_errors_are_collection_errors(
    simulator: Simulator, pytester: pytest.Pytester, answer: Answer, expected: list[str]
) -> None:
    simulator.add(SimulatedRun("abc123", cases=[case("a")], answers={0: answer}))
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = inprocess(pytester, "--qatech-run", "abc123", "-rE")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting qatech*",
            *expected,
            "ERROR qatech - QA.tech run abc123 could not be read: *",
            "*1 error*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert len(simulator.requests) == 1


def test_an_unknown_run_does_not_hide_the_others(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(mixed_run())
    result = inprocess(
        pytester,
        "--qatech-run",
        "nope",
        "--qatech-run",
        "abc123",
        "--continue-on-collection-errors",
    )
    result.assert_outcomes(passed=1, failed=1, skipped=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            '*QA.tech run nope could not be read: *HTTP 404 Not Found: "Run not found"',
            "QA.tech run nope: could not be read (last status unknown); see the error above",
        ]
    )
    # Under --tb=no nothing is above: the summary points nowhere.
    quiet = inprocess(pytester, "--qatech-run", "nope", "--tb=no")
    quiet.stdout.fnmatch_lines(["QA.tech run nope: could not be read (last status unknown)"])
    assert "see the error above" not in quiet.stdout.str()


def test_timeout_is_a_collection_error(simulator: Simulator, pytester: pytest.Pytester) -> None:
    simulator.add(SimulatedRun("slow", cases=[case("a")], statuses=("RUNNING",)))
    # A second: the run's first answer (RUNNING) is in long before, on a loaded machine too.
    result = inprocess(pytester, "--qatech-run", "slow", "--qatech-timeout", "1")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["QA.tech run slow did not finish in time: still RUNNING after *s (--qatech-timeout 1*s)"]
    )


def test_no_token_is_a_usage_error_before_any_request(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QATECH_API_TOKEN")
    simulator.add(mixed_run())
    result = inprocess(pytester, "--qatech-run", "abc123")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --qatech-run needs an API token: set QATECH_API_TOKEN*"])
    assert simulator.requests == []


def test_a_bad_setting_is_a_usage_error_before_any_request(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    result = inprocess(pytester, "--qatech-run", "abc", "--qatech-api-url", "http://api.qa.tech")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --qatech-api-url 'http://api.qa.tech' uses plain http*"])
    assert simulator.requests == []


def test_ini_settings_apply_and_the_command_line_wins(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QATECH_API_URL")
    simulator.add(mixed_run())
    pytester.makeini(f"[pytest]\nqatech_api_url = {simulator.url}\nqatech_poll_interval = 0.01\n")
    result = pytester.runpytest_inprocess("--qatech-run", "abc123")
    result.assert_outcomes(passed=1, failed=1, skipped=1)

    pytester.makeini("[pytest]\nqatech_api_url = http://127.0.0.1:9\nqatech_timeout = nonsense\n")
    result = pytester.runpytest_inprocess(
        "--qatech-run", "abc123", "--qatech-api-url", simulator.url, "--qatech-timeout", "30", *FAST
    )
    result.assert_outcomes(passed=1, failed=1, skipped=1)


def test_options_are_documented_in_groups(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--help")
    result.stdout.fnmatch_lines(
        [
            "QA.tech remote test runs:",
            "  --qatech-run=SHORTID*",
            "  --qatech-api-url=URL*",
            "  --qatech-poll-interval=SECONDS",
            "  --qatech-timeout=SECONDS",
            "  --qatech-max-flaky=N*",
            "  --qatech-missing-token=WHAT",
            "TestVibe remote test runs:",
            "  --testvibe-run=RUNID*",
            "Autonoma remote test runs:",
            "  --autonoma-run=RUN_ID*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "  qatech_api_url (string):*",
            "  qatech_timeout (string):*",
            "  qatech_quarantine (linelist):*",
            "  qatech_max_flaky (string):*",
            "  qatech_missing_token (string):*",
        ]
    )


@pytest.mark.parametrize("plugin", ["xdist", "timeout"])
def test_without_an_optional_plugin_loaded(
    simulator: Simulator, pytester: pytest.Pytester, plugin: str
) -> None:
    # The plugin's hooks for xdist and pytest-timeout are optional: nothing is missing.
    simulator.add(mixed_run())
    result = run_session(
        pytester,
        *FAST,
        "--qatech-run",
        "abc123",
        "-p",
        f"no:{plugin}",
        "--strict-markers",
        "-W",
        "error",
    )
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    assert requests_made(simulator) == MIXED_RUN_REQUESTS


def test_xdist_collection_errors_stay_readable(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(SimulatedRun("abc123", answers={0: Answer(404, {"message": "Run not found"})}))
    result = run_session(pytester, *FAST, "--qatech-run", "abc123", "-n", "2")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(['*HTTP 404 Not Found: "Run not found"'])
    assert result.stdout.str().count("ERROR collecting qatech") == 1
    assert len(simulator.requests) == 1


EXAMPLE = Path(__file__).parent.parent / "conftest_example.py"


def example_project(pytester: pytest.Pytester) -> Path:
    """A project as a user sets it up: the example as its root conftest.py, a pytest.ini, the
    run id file the CI wrote, and its tests in a subdirectory."""
    pytester.makeconftest(EXAMPLE.read_text())
    pytester.makeini("[pytest]\n")
    (pytester.path / "qatech-run-id.txt").write_text("abc123\n")
    tests = pytester.mkdir("tests")
    (tests / "test_local.py").write_text(LOCAL_TEST)
    return tests


#: A project's own collection hook, beside the example's: it marks remote items as it marks its
#: own, in every process that collects them (under xdist, the workers and the controller).
COLLECTION_HOOK = """
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if item.name == "Login":
            item.add_marker(pytest.mark.skip(reason="marked by a collection hook"))
"""


@pytest.mark.parametrize(
    ("where", "extra"),
    [("root", ()), ("subdirectory", ()), ("root", ("-n", "2", "--dist", "loadfile"))],
    ids=["from the root", "from a subdirectory", "xdist"],
)
def test_the_example_conftest_in_a_project(
    simulator: Simulator,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    extra: tuple[str, ...],
) -> None:
    tests = example_project(pytester)
    (tests / "conftest.py").write_text(COLLECTION_HOOK)
    if where == "subdirectory":
        monkeypatch.chdir(tests)
    known = case("Checkout with saved card", "FAILED", title="No Pay now button")
    simulator.add(SimulatedRun("abc123", "FAILED", [case("Login"), known]))
    result = run_session(pytester, *FAST, "-v", "-rsx", *extra)  # no --qatech-run
    result.assert_outcomes(passed=1, skipped=1, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*SKIPPED [[]1] *qatech::Login: marked by a collection hook",
            "*XFAIL *qatech::Checkout with saved card - PAY-1432*",
        ],
        consecutive=False,
    )
    if not extra:
        # From a subdirectory, pytest shows node ids relative to it: ``../qatech::...``.
        result.stdout.fnmatch_lines(
            [
                "*test_local.py::test_local PASSED*",
                "*qatech::Login SKIPPED*",
                "*qatech::Checkout with saved card XFAIL*",
            ]
        )
    # Once per run, by the process that talked to the API, not by each xdist worker.
    runs = (pytester.path / "qatech-runs.txt").read_text()
    assert runs == "qatech run abc123: COMPLETED, 1 passed, 1 failed\n"


def test_the_example_conftest_without_the_plugin(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    example_project(pytester)
    result = run_session(pytester, "-p", "no:qatech")
    result.assert_outcomes(passed=1)
    assert simulator.requests == []


def test_the_example_conftest_in_ci_without_its_run_file_is_no_green_session(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    example_project(pytester)
    (pytester.path / "qatech-run-id.txt").unlink()
    monkeypatch.setenv("CI", "true")
    result = run_session(pytester, *FAST)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: */qatech-run-id.txt is missing: the step that starts*"])


def test_item_name_hook(simulator: Simulator, pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "def pytest_qatech_item_name(case, run_id):\n"
        "    if case.name == 'Checkout':\n"
        "        return f'{run_id}-checkout [eu]'\n"
    )
    assert collected_node_ids(simulator, pytester) == [
        "qatech::Login flow test",
        "qatech::abc123-checkout (eu)",
        "qatech::Newsletter",
    ]


def test_item_name_hook_first_name_given_wins(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # Two implementations: the conftest's is asked first, and its None passes the case on.
    pytester.makeconftest(
        "def pytest_qatech_item_name(case, run_id):\n"
        "    return 'from the conftest' if case.name == 'Checkout' else None\n"
    )
    pytester.makepyfile(
        naming_plugin=(
            "def pytest_qatech_item_name(case, run_id):\n    return 'plugin ' + case.name\n"
        )
    )
    pytester.syspathinsert()
    simulator.add(mixed_run())
    result = inprocess(pytester, "-p", "naming_plugin", "--qatech-run", "abc123", "--co", "-q")
    assert [line for line in result.outlines if line.startswith("qatech::")] == [
        "qatech::plugin Login flow test",
        "qatech::from the conftest",
        "qatech::plugin Newsletter",
    ]


def test_run_ids_hook_adds_to_the_command_line(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    pytester.makeconftest("def pytest_qatech_run_ids(config):\n    return ['two', 'one']\n")
    simulator.add(mixed_run("one"), mixed_run("two"))
    result = inprocess(pytester, "--qatech-run", "one", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["qatech::one::Login flow test", "*", "*", "qatech::two::*"])
    assert result.stdout.str().count("qatech::one::Login flow test") == 1


def test_run_ids_from_a_hook_are_checked_like_the_option(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    pytester.makeconftest("def pytest_qatech_run_ids(config):\n    return ['../x']\n")
    result = pytester.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --qatech-run '../x' is not a run short id*"])
    assert simulator.requests == []


@pytest.mark.skipif(not XDIST, reason="pytest-xdist is not installed: the whole run shows it")
def test_works_when_xdist_is_not_installed(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "xdist-" in run_session(pytester, "--co").stdout.str()  # loaded by default
    # Without autoload only the plugins named with -p are loaded: xdist might as well be absent.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    simulator.add(mixed_run())
    args = (*FAST, "-p", "pytest_qatech.plugin", "--qatech-run", "abc123")
    result = run_session(pytester, *args)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    assert "xdist-" not in result.stdout.str()


def test_dashboard_links_with_a_project(simulator: Simulator, pytester: pytest.Pytester) -> None:
    simulator.add(mixed_run())
    link = "https://app.qa.tech/p/acme-shop/results/abc123"
    result = inprocess(
        pytester, "--qatech-run", "abc123", "--qatech-project", "acme-shop", "--junitxml=r.xml"
    )
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "qatech: QA.tech runs abc123 from *",
            f"qatech: results at {link}",
            "*_ qatech Checkout _*",
            "*",
            "*",
            "*",
            "Goal: Test the checkout flow",
            "QA.tech case tc2 in run abc123",
            f"Run: {link}",
            f"QA.tech run abc123: COMPLETED, result FAILED - 1 passed, 1 failed, * - {link}",
        ]
    )
    properties = [
        (p.get("name"), p.get("value")) for p in ET.parse(pytester.path / "r.xml").iter("property")
    ]
    assert properties.count(("run_url", link)) == 3


def test_the_plugins_go_when_the_session_ends(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(mixed_run())
    pytester.makeconftest(
        "from pathlib import Path\n\n"
        "import pytest\n\n"
        "from pytest_qatech.plugin import ACTIVATION\n\n"
        "@pytest.hookimpl(trylast=True)\n"
        "def pytest_unconfigure(config):\n"
        "    plugins = config.pluginmanager.list_name_plugin()\n"
        "    names = [name for name, _ in plugins if 'qatech-' in str(name)]\n"
        "    Path('left.txt').write_text(repr((names, ACTIVATION in config.stash)))\n"
    )
    inprocess(pytester, "--qatech-run", "abc123")
    assert (pytester.path / "left.txt").read_text() == "([], False)"


def test_repeated_ids_and_names_lose_no_case_and_every_count_agrees(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # A broken or hostile QA.tech answer repeats a case's short id; a TestVibe run names two
    # tests alike (its tests have no id: each is its place in the list).
    simulator.add(
        SimulatedRun(
            "abc123",
            result="FAILED",
            cases=[
                case("Login", short_id="tc1"),
                case("Checkout", "FAILED", title="No pay button", short_id="tc2"),
                case("Search", short_id="tc1"),
                case("Signup", short_id="tc3"),
            ],
        )
    )
    simulator.add(
        SimulatedTestVibeRun(214, [vibe_test("Login"), vibe_test("Login", "failed", error="No")])
    )
    result = inprocess(
        pytester, "--qatech-run", "abc123", "--testvibe-run", "214", "--junitxml=report.xml"
    )
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of qatech Search _*",
            "QA.tech listed case short id tc1 more than once in run abc123: entry #3 *",
            "QA.tech run abc123: COMPLETED, result FAILED - 2 passed, 1 failed, 1 error",
            "TestVibe run 214: failed - 1 passed, 1 failed",
            "*= 2 failed, 3 passed, 1 error in *",
        ]
    )
    names = [c.get("name", "") for c in ET.parse(pytester.path / "report.xml").iter("testcase")]
    assert sorted(names) == ["Checkout", "Login", "Login", "Login (2)", "Search", "Signup"]


CHAT_DOWN = """
def pytest_qatech_run_finished(config, run):
    raise RuntimeError("chat webhook down")

def pytest_qatech_runs_started(config, runs):
    raise RuntimeError("chat webhook down for the start")
"""


@pytest.mark.parametrize(
    ("run", "cases"), [("abc123", 3), ("green1", 1)], ids=["a failing run", "a green run"]
)
def test_a_project_hook_that_raises_costs_no_report(
    simulator: Simulator, pytester: pytest.Pytester, run: str, cases: int
) -> None:
    simulator.add(mixed_run(), SimulatedRun("green1", cases=[case("Login", short_id="g1")]))
    pytester.makeconftest(CHAT_DOWN)
    result = run_session(pytester, *FAST, "--qatech-run", run, "--junitxml=report.xml")
    # Failed as it would have been (abc123 has a failure), or by the hook (green1 passed).
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str()
    assert "INTERNALERROR" not in output
    result.stdout.fnmatch_lines(
        [
            f"qatech: warning: QA.tech run {run}: the project's pytest_qatech_run_finished hook "
            "raised RuntimeError: chat webhook down; the session goes on, and fails (its "
            "traceback is in the summary)",
            f"*_ pytest_qatech_run_finished raised, for QA.tech run {run} _*",
            "Traceback (most recent call last):",
            '*raise RuntimeError("chat webhook down")',
            "RuntimeError: chat webhook down",
            "*= remote runs =*",
        ]
    )
    assert len(list(ET.parse(pytester.path / "report.xml").iter("testcase"))) == cases


@pytest.mark.starts_runs
def test_a_runs_started_hook_that_raises_does_not_stop_the_wait(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.project = demo_project()
    pytester.makeconftest(CHAT_DOWN.split("\n\n")[1])
    result = run_session(pytester, *FAST, "--qatech-plan", "pln_smoke")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["qatech: warning: QA.tech run *: the project's pytest_qatech_runs_started hook raised "
         "RuntimeError: chat webhook down for the start*"]
    )  # fmt: skip
