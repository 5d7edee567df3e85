"""Third-party tools beside the plugin, as a user has them installed: each shows the remote
verdicts as it shows local ones."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_qatech.simulator import SimulatedRun, SimulatedTestVibeRun, Simulator, case, vibe_test

from .helpers import FAILING_TEST, FAST, mixed_run, run_session


def with_an_agent_error() -> SimulatedRun:
    """mixed_run() and a case whose agent could not run it: no verdict on the product."""
    run = mixed_run()
    run.cases.append(case("Profile", "FAILED", title="Timed out", short_id="tc4"))
    run.details["tc4"] = {"errorCode": "AGENT_TIMEOUT"}
    return run


def test_allure_calls_a_remote_failure_failed_and_an_agent_error_broken(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(with_an_agent_error())
    run_session(pytester, *FAST, "--qatech-run", "abc123", "--alluredir=allure")
    results = {}
    for path in (pytester.path / "allure").glob("*-result.json"):
        result = json.loads(path.read_text())
        results[result["name"]] = (result["status"], result.get("statusDetails", {}))
    assert {name: status for name, (status, _) in results.items()} == {
        "Login flow test": "passed",
        "Checkout": "failed",
        "Newsletter": "skipped",
        "Profile": "broken",
    }
    assert results["Checkout"][1]["message"] == "RemoteFailure: Could not find login button"
    # Its trace shows the agent's steps, as the failure's traceback.
    assert results["Checkout"][1]["trace"].startswith("Steps: 3\nstep 1 of 3 (1.2s)\n")
    assert results["Profile"][1]["message"].startswith(
        "RemoteVerdict: AGENT_TIMEOUT: the QA.tech agent could not run this case"
    )
    assert "pytest_qatech" not in json.dumps(results)


def test_short_summaries_name_each_remote_case(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(mixed_run())
    result = run_session(pytester, *FAST, "--qatech-run", "abc123", "-rs", "--tb=line")
    result.stdout.fnmatch_lines(
        [
            "*= FAILURES =*",
            "qatech::Checkout: Could not find login button",
            "*short test summary info*",
            "SKIPPED [1] qatech::Newsletter: Feature flag off",
        ]
    )
    assert "The login button was not visible" not in result.stdout.str()


def test_one_annotation_per_remote_failure_beside_annotate_failures(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under xdist too: test_github.py's wide session, where that plugin is loaded as well.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    simulator.add(mixed_run())
    pytester.makepyfile(test_local=FAILING_TEST)
    result = run_session(pytester, *FAST, "--qatech-run", "abc123")
    assert pytester.parseconfig().pluginmanager.hasplugin("pytest_github_actions_annotate_failures")
    annotations = [line for line in result.outlines + result.errlines if line.startswith("::error")]
    assert len(annotations) == 2, annotations
    (remote,) = [line for line in annotations if "Checkout" in line]
    assert remote == ("::error title=qatech%3A%3ACheckout::Could not find login button")
    # pytest-github-actions-annotate-failures still annotates the local failure, at its file.
    assert [line for line in annotations if "test_local.py" in line]


def test_node_ids_copied_from_collect_only_select_those_items(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(mixed_run())
    pytester.makepyfile(test_local=FAILING_TEST, test_other="def test_other():\n    pass\n")
    listed = run_session(pytester, *FAST, "--qatech-run", "abc123", "--co", "-q")
    assert "qatech::Checkout" in listed.outlines
    result = run_session(
        pytester, *FAST, "--qatech-run", "abc123", "qatech::Checkout", "test_other.py", "-v"
    )
    result.assert_outcomes(passed=1, failed=1, deselected=2)
    result.stdout.fnmatch_lines(["test_other.py::test_other PASSED*", "qatech::Checkout FAILED*"])


def test_a_run_s_collector_id_selects_its_items_alone_under_xdist(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(mixed_run())
    pytester.makepyfile(test_local=FAILING_TEST)
    result = run_session(pytester, *FAST, "--qatech-run", "abc123", "qatech", "-n", "2")
    result.assert_outcomes(passed=1, failed=1, skipped=1)


def test_a_remote_node_id_that_names_nothing_is_a_usage_error(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # Reported as soon as the run is listed, as pytest reports a local node id that names
    # nothing: before any test runs, and before the run ends. The run is held for ever.
    simulator.add(SimulatedRun("abc123", cases=[case("Login", short_id="tc1")], hold_at=1))
    pytester.makepyfile(test_local=FAILING_TEST)
    result = run_session(
        pytester,
        *FAST,
        "--qatech-timeout",
        "30",
        "--qatech-run",
        "abc123",
        "qatech::Nope",
        "test_local.py",
    )
    result.stderr.fnmatch_lines(
        ["ERROR: not found: qatech::Nope (no remote item has this node id)"]
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "test_local.py" not in result.stdout.str()
    said = (result.stdout.str() + result.stderr.str()).count("not found: qatech::Nope")
    assert said == 1  # once, as pytest says a local node id that names nothing


def test_a_remote_node_id_of_a_run_not_listed_in_time_is_checked_at_the_end(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # TestVibe lists a run's tests only at its end: the node id may name one of them.
    simulator.add(SimulatedTestVibeRun(214, [vibe_test("Login")]))
    result = run_session(pytester, *FAST, "--testvibe-run", "214", "testvibe::Nope")
    result.stdout.fnmatch_lines(["ERROR: not found: testvibe::Nope"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def junit_ids(path: Path) -> list[tuple[str | None, str | None]]:
    return [(c.get("classname"), c.get("name")) for c in ET.parse(path).iter("testcase")]


@pytest.mark.parametrize(
    "runs",
    [
        (("abc123",), ("def456",)),
        (("staging=abc123", "prod=abc124"), ("staging=def456", "prod=def457")),
    ],
    ids=["one run", "labelled runs"],
)
def test_tomorrow_s_run_has_today_s_test_ids_and_lf_selects_what_failed(
    simulator: Simulator,
    pytester: pytest.Pytester,
    runs: tuple[tuple[str, ...], tuple[str, ...]],
) -> None:
    today, tomorrow = runs
    for value in today + tomorrow:
        run_id = value.rpartition("=")[2]
        simulator.add(
            SimulatedRun(
                run_id,
                "FAILED",
                [
                    case("Login", short_id=f"{run_id}a"),
                    case("Checkout", "FAILED", title="No button", short_id=f"{run_id}b"),
                ],
            )
        )

    def session(values: tuple[str, ...], *args: str) -> pytest.RunResult:
        options = [option for value in values for option in ("--qatech-run", value)]
        return run_session(pytester, *FAST, *options, *args)

    first = session(today, "--junitxml=today.xml")
    first.assert_outcomes(passed=len(today), failed=len(today))
    again = session(tomorrow, "--lf", "--junitxml=tomorrow.xml", "-v")
    again.assert_outcomes(failed=len(today), deselected=len(today))
    # Sorted: runs report in the order their verdicts come.
    assert sorted(junit_ids(pytester.path / "tomorrow.xml")) == sorted(
        entry for entry in junit_ids(pytester.path / "today.xml") if entry[1] == "Checkout"
    )
    if len(today) == 1:
        again.stdout.fnmatch_lines(["qatech::Checkout FAILED*"])
    else:
        again.stdout.fnmatch_lines_random(
            ["qatech::staging::Checkout FAILED*", "qatech::prod::Checkout FAILED*"]
        )
