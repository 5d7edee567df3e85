"""One truth for what a session selected of a run: its reruns ask only for the selected cases
that did not pass, and its own ``(run)`` verdict goes with any of its cases selected. Sessions
against the simulator, each asserting the exact POST bodies (or that none was sent) and the exit
code."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pytest_qatech.simulator import (
    SimulatedPlan,
    SimulatedProject,
    SimulatedRun,
    Simulator,
    case,
)
from pytest_qatech.simulator.demo import nightly
from pytest_qatech.simulator.qatech import project_case_id

from .helpers import FAST, mixed_run, run_session
from .test_streaming import RELEASING_TEST

pytestmark = pytest.mark.starts_runs


@pytest.fixture
def reruns_to(simulator: Simulator) -> Simulator:
    """The simulator with the mixed run (a pass, a failure, a skip) and a project to rerun it."""
    simulator.project = SimulatedProject([])
    simulator.add(mixed_run())
    return simulator


def posted(simulator: Simulator) -> list[Any]:
    return [request.body for request in simulator.requests if request.method == "POST"]


def ids(*names: str) -> dict[str, list[str]]:
    """A rerun naming these cases' tests: their ids as the simulator's details give them."""
    return {"projectTestCaseIds": [project_case_id({"name": name}) for name in names]}


@pytest.mark.parametrize(
    ("selection", "body", "outcomes"),
    [
        (["-k", "Checkout"], ids("Checkout"), {"failed": 1}),
        (["qatech::Newsletter"], ids("Newsletter"), {"skipped": 1}),
        (["-k", "Checkout or Newsletter"], {"failedOnly": True}, {"failed": 1, "skipped": 1}),
        (["-k", "Login"], None, {"passed": 1}),
    ],
    ids=["one failure", "a node id", "every failure", "only a pass"],
)
def test_a_rerun_asks_only_for_the_selected_cases_that_did_not_pass(
    reruns_to: Simulator,
    pytester: pytest.Pytester,
    selection: list[str],
    body: dict[str, Any] | None,
    outcomes: dict[str, int],
) -> None:
    result = run_session(
        pytester, *FAST, "--qatech-run", "abc123", "--qatech-reruns", "1", *selection
    )
    assert posted(reruns_to) == ([body] if body else [])
    result.assert_outcomes(**outcomes)
    assert result.ret == (pytest.ExitCode.TESTS_FAILED if "failed" in outcomes else 0)


def test_under_xdist_a_rerun_asks_only_for_what_the_workers_selected(
    reruns_to: Simulator, pytester: pytest.Pytester
) -> None:
    result = run_session(
        pytester, *FAST, "--qatech-run", "abc123", "--qatech-reruns", "1", "-k", "Checkout",
        "-n", "2",
    )  # fmt: skip
    assert posted(reruns_to) == [ids("Checkout")]
    result.assert_outcomes(failed=1)


def test_without_the_cases_details_a_partial_selection_reruns_nothing_and_says_so(
    reruns_to: Simulator, pytester: pytest.Pytester
) -> None:
    result = run_session(pytester,
        *FAST, "--qatech-run", "abc123", "--qatech-reruns", "1", "--qatech-details", "none",
        "-k", "Checkout",
    )  # fmt: skip
    assert posted(reruns_to) == []
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "qatech: warning: QA.tech run abc123: not rerun: 'Checkout', selected here of its "
            "failed cases: a rerun of some of a run's failed cases names their tests by id, "
            "which no details of these gave; their verdicts stand"
        ]
    )


#: A run's own verdict, each way it can end badly with a passing case.
BAD_ENDS: dict[str, dict[str, Any]] = {
    "ended ERROR": {"result": None, "statuses": ("RUNNING", "ERROR")},
    "result FAILED": {"result": "FAILED", "statuses": ("RUNNING", "COMPLETED")},
}
#: Marks the run's passing case, for -m to select.
SMOKE_HOOK = """
import pytest

def pytest_qatech_modify_item(item, case):
    if case.name == "Login flow test":
        item.add_marker(pytest.mark.smoke)
"""


@pytest.mark.parametrize("ended", ["before the session", "during it"])
@pytest.mark.parametrize("end", sorted(BAD_ENDS))
@pytest.mark.parametrize(
    "selection",
    [["-k", "Login"], ["-m", "smoke"], ["qatech::Login flow test"]],
    ids=["-k", "-m", "node id"],
)
def test_a_run_that_ended_badly_fails_every_selection_of_its_cases(
    simulator: Simulator,
    pytester: pytest.Pytester,
    selection: list[str],
    end: str,
    ended: str,
) -> None:
    script: dict[str, Any] = dict(BAD_ENDS[end])
    if ended == "before the session":
        script["statuses"] = script["statuses"][-1:]
    cases = [case("Login flow test", short_id="tc1"), case("Signup", short_id="tc2")]
    simulator.add(SimulatedRun("abc123", cases=cases, **script))
    pytester.makeconftest(SMOKE_HOOK)
    pytester.makeini("[pytest]\nmarkers = smoke\n")
    pytester.makepyfile(test_local="def test_local():\n    pass\n")
    result = run_session(pytester, *FAST, "--qatech-run", "abc123", *selection)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["ERROR qatech::(run) - QA.tech run abc123 *"])
    # Counted once: what collection deselected is what the last line says.
    assert deselected_at_collection(result) == result.parseoutcomes()["deselected"]


def deselected_at_collection(result: pytest.RunResult) -> int:
    found = re.search(r"^collected \d+ items / (\d+) deselected", result.stdout.str(), re.M)
    assert found is not None
    return int(found.group(1))


def test_a_selection_without_any_case_of_the_run_leaves_its_verdict_out(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    cases = [case("Login flow test", short_id="tc1")]
    simulator.add(SimulatedRun("abc123", cases=cases, result=None, statuses=("ERROR",)))
    pytester.makepyfile(test_local="def test_local():\n    pass\n")
    result = run_session(pytester, *FAST, "--qatech-run", "abc123", "-k", "local")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, deselected=2)


def test_cases_listed_after_collection_and_deselected_are_said_not_counted_twice(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(
        SimulatedRun(
            "abc123",
            cases=[case("Login a", short_id="tc1"), case("Late b", short_id="tc2"),
                   case("Late login c", short_id="tc3")],
            statuses=("RUNNING", "RUNNING", "COMPLETED"),
            listed_at={"tc2": 2, "tc3": 2},
            hold_at=1,
        )
    )  # fmt: skip
    pytester.makepyfile(test_local=RELEASING_TEST, test_other="def test_other():\n    pass\n")
    result = run_session(pytester, *FAST, "--qatech-run", "abc123", "-k", "login or releases")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["collected 3 items / 1 deselected / 2 selected",
         "qatech: QA.tech run abc123: 1 case listed after collection left out by the selection",
         "*= 3 passed, 1 deselected in *"]
    )  # fmt: skip


@pytest.mark.parametrize(
    "start",
    [["--qatech-start"], ["--qatech-plan", "pln_nightly", "--qatech-whole-plan"]],
    ids=["the default plan", "a whole plan"],
)
def test_a_started_run_s_rerun_asks_only_for_the_selected_failed_case(
    simulator: Simulator, pytester: pytest.Pytester, start: list[str]
) -> None:
    plan = start[1] if len(start) > 1 else None
    simulator.project = SimulatedProject([SimulatedPlan("Nightly regression", nightly, plan)])
    result = run_session(pytester, *FAST, *start, "--qatech-reruns", "1", "-k", "Coupon")
    started = {"trigger": "API", **({"testPlanShortId": plan} if plan else {})}
    assert posted(simulator) == [started, ids("Coupon code applies")]
    result.assert_outcomes(failed=1)
