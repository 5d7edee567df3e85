"""Starting QA.tech runs and rerunning their failures, in whole sessions against the simulator:
the wiring of what ``test_starting.py`` and ``test_reruns.py`` decide."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_qatech.cli import main
from pytest_qatech.simulator import (
    DEFAULT_TOKEN,
    Answer,
    SimulatedPlan,
    SimulatedProject,
    SimulatedRun,
    Simulator,
    case,
    environment,
)

from .helpers import FAST, LOCAL_TEST, progress_marks, run_session

pytestmark = pytest.mark.starts_runs


def smoke(short_id: str) -> SimulatedRun:
    """A run of plan pln_smoke: login passes; checkout fails, and passes when rerun."""
    return SimulatedRun(
        short_id,
        result="FAILED",
        passes_on_rerun={"Checkout": 1},
        cases=[
            case("Login", short_id=f"{short_id}a"),
            case("Checkout", "FAILED", title="No pay button", short_id=f"{short_id}b"),
        ],
    )


def broken(short_id: str) -> SimulatedRun:
    """A run whose checkout fails on every attempt."""
    return SimulatedRun(
        short_id,
        result="FAILED",
        cases=[case("Checkout", "FAILED", title="The cart is empty", short_id=f"{short_id}b")],
    )


@pytest.fixture
def project(simulator: Simulator) -> SimulatedProject:
    simulator.project = SimulatedProject(
        [SimulatedPlan("Smoke", smoke, "pln_smoke"), SimulatedPlan("Broken", broken, "pln_broken")]
    )
    return simulator.project


def posts(simulator: Simulator) -> list[str]:
    return [request.path for request in simulator.requests if request.method == "POST"]


#: Writes down each call of the hooks about runs, with the process and thread it came from.
HOOK_RECORDER = """
import threading


def _record(config, line):
    process = "worker" if hasattr(config, "workerinput") else "controller"
    with (config.rootpath / "hooks.txt").open("a") as out:
        out.write(f"{line} {process} {threading.current_thread().name}\\n")


def pytest_qatech_runs_started(config, runs):
    _record(config, "runs_started " + ",".join(run.run_id for run in runs))


def pytest_qatech_run_finished(config, run):
    _record(config, "run_finished " + run.run_id)
"""


def properties(report: Path, name: str) -> dict[str, str]:
    (testcase,) = (c for c in ET.parse(report).iter("testcase") if c.get("name") == name)
    return {p.get("name", ""): p.get("value", "") for p in testcase.iter("property")}


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["one process", "xdist"])
def test_a_started_run_with_a_flaky_case_is_green_and_says_flaky_everywhere(
    simulator: Simulator,
    project: SimulatedProject,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    xdist: tuple[str, ...],
) -> None:
    outputs, summary = pytester.path / "outputs", pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.makepyfile(test_local=LOCAL_TEST)
    pytester.makeconftest(HOOK_RECORDER)
    result = run_session(pytester,
        *FAST, "--qatech-plan", "pln_smoke", "--qatech-reruns", "1", "-v",
        "--junitxml=report.xml", *xdist,
    )  # fmt: skip
    (run_id,) = project.started
    ((rerun_of, rerun_id),) = project.reruns
    assert rerun_of == run_id
    # One start and one rerun, from the controller only.
    assert posts(simulator) == ["/v1/run", f"/v1/run/{run_id}"]
    assert project.starts == [{"trigger": "API", "testPlanShortId": "pln_smoke"}]
    result.stdout.fnmatch_lines(
        [
            f"qatech: started QA.tech run {run_id} (test plan Smoke, pln_smoke; 2 cases): "
            f"https://*/results/{run_id}",
            # A run started from a plan goes by the plan's id: the same node id every day.
            "*qatech::pln_smoke::Checkout RERUN*",
            "*qatech::pln_smoke::Checkout PASSED (flaky)*",
            "*remote runs*",
            f"QA.tech run {run_id}: COMPLETED, result PASSED - 2 passed (after 1 rerun: "
            f"{rerun_id})*",
            "flaky (failed, then passed on a rerun): 1",
            f"  Checkout (QA.tech run {run_id}): failed in {run_id}: No pay button",
            "*= 3 passed, 1 rerun in *",
        ]
    )
    assert result.ret == pytest.ExitCode.OK
    checkout = properties(pytester.path / "report.xml", "Checkout")
    assert {key: checkout[key] for key in checkout if key.startswith(("att", "fla", "fir"))} == {
        "attempts": "2",
        "flaky": "true",
        "first_failure": "No pay button",
        "attempt_1_run_short_id": run_id,
        "attempt_2_run_short_id": rerun_id,
    }
    suite = next(ET.parse(pytester.path / "report.xml").iter("testsuite"))
    started = [(p.get("name"), p.get("value")) for p in suite.iterfind("properties/property")]
    assert ("qatech_started_run", run_id) in started
    assert outputs.read_text() == f"qatech-run-short-id={run_id}\n"
    assert "### Flaky: failed, then passed on a rerun" in summary.read_text()
    # Once each, in the process that talks to the API (never in an xdist worker), from its
    # main thread: the run is finished once, with its rerun's verdicts.
    assert (pytester.path / "hooks.txt").read_text().splitlines() == [
        f"runs_started {run_id} controller MainThread",
        f"run_finished {run_id} controller MainThread",
    ]


def test_a_skipped_case_that_a_rerun_decides_is_reported_once_with_its_last_verdict(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    # QA.tech's failedOnly reruns skipped cases too: the skip listed first must not be reported
    # before the rerun that turns it into a pass.
    simulator.add(
        SimulatedRun(
            "abc123",
            result="FAILED",
            passes_on_rerun={"Newsletter": 1},
            cases=[
                case("Newsletter", "SKIPPED", title="Feature flag off", short_id="tc3"),
                case("Checkout", "FAILED", title="The cart is empty", short_id="tc2"),
            ],
        )
    )
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = run_session(
        pytester,
        *FAST,
        "--qatech-run",
        "abc123",
        "--qatech-reruns",
        "1",
        "-rA",
        "--junitxml=report.xml",
    )
    # One rerun: Checkout's failure. A skip a rerun ran again is no failure rerun.
    assert progress_marks(result) == ".RF"
    result.stdout.fnmatch_lines(
        [
            "QA.tech run abc123: COMPLETED, result FAILED - 1 passed, 1 failed (after 1 rerun*",
            "PASSED qatech::Newsletter",
            "*= 1 failed, 2 passed, 1 rerun in *",
        ]
    )
    assert "SKIPPED" not in result.stdout.str()
    testcases = {c.get("name"): c for c in ET.parse(pytester.path / "report.xml").iter("testcase")}
    assert testcases["Newsletter"].find("skipped") is None
    assert testcases["Checkout"].find("failure") is not None
    assert len(testcases) == 3


def test_a_case_failing_every_attempt_is_red_with_every_attempt(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    simulator.add(broken("abc123"))
    pytester.makeini("[pytest]\nqatech_reruns = 2\n")
    result = run_session(pytester, *FAST, "--qatech-run", "abc123", "--tb=short")
    assert [pair[0] for pair in project.reruns] == ["abc123", "abc123r1"]
    result.stdout.fnmatch_lines(
        [
            "*_ qatech Checkout _*",
            "The cart is empty",
            "3 attempts:",
            "  1. QA.tech run abc123: failed: The cart is empty",
            "  2. QA.tech run abc123r1: failed: The cart is empty",
            "  3. QA.tech run abc123r1r2: failed: The cart is empty",
            "*= 1 failed, 2 rerun in *",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_start_refused_for_the_usage_limit_is_an_error_and_the_local_tests_still_run(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester, xdist: list[str]
) -> None:
    echoed = f"Usage limit exceeded for token {DEFAULT_TOKEN}"
    project.start_answers[0] = Answer(402, {"message": echoed})
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = run_session(
        pytester, *FAST, "--qatech-plan", "pln_smoke", "--junitxml=r.xml", "-rE", *xdist
    )
    assert posts(simulator) == ["/v1/run"]
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of qatech pln_smoke*",
            "QA.tech could not start a run of test plan pln_smoke: POST http://127.0.0.1:*/v1/run "
            'failed: HTTP 402 Payment Required: "Usage limit exceeded for token ********"',
            "hint: the QA.tech organisation's usage limit is reached: no run was started.*",
            "QA.tech: no run of test plan pln_smoke was started; see the error above*",
            "ERROR qatech::pln_smoke - QA.tech could not start a run of test plan*",
        ]
    )
    # As for a run that cannot be read: the session fails, exit 2.
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert DEFAULT_TOKEN not in result.stdout.str() + (pytester.path / "r.xml").read_text()


def test_a_start_whose_outcome_is_unknown_is_never_sent_again(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    project.start_answers[0] = Answer(500, {"message": "Internal error"})
    result = run_session(pytester, *FAST, "--qatech-start")
    assert posts(simulator) == ["/v1/run"]
    result.stdout.fnmatch_lines(
        [
            "*QA.tech could not start a run of the default test plan: POST *failed: HTTP 500*",
            "The request may have reached QA.tech, so a run may have started: look for it at "
            "https://app.qa.tech, and report on it with --qatech-run SHORTID rather than start "
            "another.",
            "QA.tech: starting a run of the default test plan failed, and one may have started "
            "all the same; see the error above*",
            "ERROR qatech::default-plan - QA.tech could not start a run of the default*",
        ]
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_collect_only_starts_nothing(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    result = run_session(pytester, *FAST, "--qatech-start", "--collect-only")
    assert simulator.requests == []
    result.stdout.fnmatch_lines(
        ["qatech: no run is started with --collect-only (--qatech-plan, --qatech-start)"]
    )


def test_neither_an_ini_file_nor_the_environment_starts_a_run(
    simulator: Simulator,
    project: SimulatedProject,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QATECH_PLAN", "pln_smoke")
    monkeypatch.setenv("QATECH_START", "1")
    pytester.makeini("[pytest]\nqatech_plan = pln_smoke\nqatech_start = true\n")
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = run_session(pytester, *FAST, "-W", "ignore::pytest.PytestConfigWarning")
    result.assert_outcomes(passed=1)
    assert simulator.requests == []


def test_qatech_junit_starts_reruns_and_reports_a_flaky_case(
    simulator: Simulator, project: SimulatedProject, tmp_path: Path
) -> None:
    report, outputs = tmp_path / "report.xml", tmp_path / "outputs"
    environ = {**environment(simulator.url), "GITHUB_OUTPUT": str(outputs)}
    code = main(["--plan", "pln_smoke", "--reruns", "1", *FAST, "-o", str(report)], environ)
    assert code == 0
    (run_id,) = project.started
    assert outputs.read_text() == f"qatech-run-short-id={run_id}\n"
    root = ET.parse(report).getroot()
    (checkout,) = (c for c in root.iter("testcase") if c.get("name") == "Checkout")
    assert checkout.find("failure") is None
    # The same names for the same facts as the plugin's report.
    properties = {p.get("name"): p.get("value") for p in checkout.iter("property")}
    assert properties["flaky"] == "true"
    assert properties["attempt_1_run_short_id"] == run_id
    (suite,) = (s for s in root.iter("testsuite") if s.find("properties") is not None)
    suite_properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert suite_properties["qatech_started_run"] == run_id


def test_several_runs_at_once_given_and_started_each_rerun_on_its_own(
    simulator: Simulator, project: SimulatedProject, tmp_path: Path
) -> None:
    simulator.add(smoke("abc123"))
    report, outputs = tmp_path / "report.xml", tmp_path / "outputs"
    environ = {**environment(simulator.url), "GITHUB_OUTPUT": str(outputs)}
    args = ["abc123", "--plan", "pln_smoke", "--plan", "pln_broken", "--reruns", "1", *FAST]
    assert main([*args, "-o", str(report)], environ) == 1
    smoke_id, broken_id = project.started
    assert sorted(rerun_of for rerun_of, _ in project.reruns) == sorted(
        ["abc123", smoke_id, broken_id]
    )
    lines = outputs.read_text().splitlines()
    assert lines[0].startswith("qatech-run-short-id<<qatech_")
    assert lines[1:3] == [smoke_id, broken_id]
    assert lines[3] == lines[0].split("<<", 1)[1]
    outcomes = {
        (c.get("classname"), c.get("name")): "failure" if c.find("failure") is not None else "pass"
        for c in ET.parse(report).iter("testcase")
    }
    assert outcomes == {
        ("qatech.abc123", "Login"): "pass",
        ("qatech.abc123", "Checkout"): "pass",
        ("qatech.pln_smoke", "Login"): "pass",
        ("qatech.pln_smoke", "Checkout"): "pass",
        ("qatech.pln_broken", "Checkout"): "failure",
    }


def test_reruns_only_execution_reruns_the_agent_s_miss_and_not_the_product_failure(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    run = SimulatedRun(
        "abc123",
        result="FAILED",
        passes_on_rerun={"Signup": 1},
        details={"abc123s": {"errorCode": "AGENT_TIMEOUT"}},
        cases=[
            case("Checkout", "FAILED", title="The cart is empty", short_id="abc123c"),
            case("Signup", "FAILED", title="Timed out", short_id="abc123s"),
        ],
    )
    simulator.add(run)
    result = run_session(pytester,
        *FAST, "--qatech-run", "abc123", "--qatech-reruns", "2",
        "--qatech-reruns-only", "execution", "-v",
    )  # fmt: skip
    # One rerun, of the miss's test by its stable id; never failedOnly beside it.
    reruns = [r for r in simulator.requests if r.method == "POST"]
    assert [(r.path, r.body) for r in reruns] == [
        ("/v1/run/abc123", {"projectTestCaseIds": [run.project_case_id(run.cases[1])]})
    ]
    assert project.reruns == [("abc123", "abc123r1")]
    result.stdout.fnmatch_lines_random(
        [
            "*qatech::Checkout FAILED*",
            "*qatech::Signup RERUN*",
            "*qatech::Signup PASSED (flaky)*",
            "*= 1 failed, 1 passed, 1 rerun in *",
        ]
    )
    # The product failure is its one attempt's: no attempts list, as without reruns.
    assert "attempts:" not in result.stdout.str()


def test_reruns_only_execution_without_details_is_a_usage_error(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    result = run_session(pytester,
        *FAST, "--qatech-run", "abc123", "--qatech-reruns", "1",
        "--qatech-reruns-only", "execution", "--qatech-details", "none",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--qatech-reruns-only execution tells an execution miss by*"])
    assert simulator.requests == []


def test_a_start_that_waits_says_so_before_pytest_says_anything(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as free:  # a port nothing listens on: every try is refused
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("QATECH_API_TOKEN", "t0ken")
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = run_session(pytester,
        "--qatech-plan", "pln_smoke", "--qatech-api-url", f"http://127.0.0.1:{port}",
        "--qatech-timeout", "1", "--qatech-poll-interval", "0.05", "-q",
    )  # fmt: skip
    result.stdout.fnmatch_lines(
        [
            "qatech: QA.tech: starting a run of test plan pln_smoke",
            f"qatech: POST http://127.0.0.1:{port}/v1/run failed: connection failed*; trying "
            "again in *",
        ]
    )
    result.assert_outcomes(passed=1, errors=1)  # and the local test still ran
