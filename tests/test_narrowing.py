"""pytest's selection decides what a run started from a test plan tests: ``--lf``, ``-k``, ``-m``,
node ids and ``--deselect`` narrow the start to the cases they leave, each test asserting the
exact body sent (or that none was), in sessions against the simulator's demo project."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

import pytest

from pytest_qatech.core.codec import to_data
from pytest_qatech.core.plan_cases import CACHE_KEY, KnownCase, PlanCases
from pytest_qatech.simulator import (
    Answer,
    SimulatedPlan,
    SimulatedProject,
    Simulator,
)
from pytest_qatech.simulator.demo import nightly
from pytest_qatech.simulator.qatech import project_case_id

from .helpers import FAST, run_session

pytestmark = pytest.mark.starts_runs

PLAN = "pln_nightly"
NAMES = [
    "Login flow test",
    "Checkout with saved card",
    "Search finds a product",
    "Coupon code applies",
    "Wishlist keeps items",
    "Profile photo upload",
]
FAILING = ["Checkout with saved card", "Coupon code applies"]


def ids(*names: str) -> list[str]:
    """The project test case ids of these cases: what the simulator's details give."""
    return [project_case_id({"name": name}) for name in names]


def body(*names: str) -> dict[str, Any]:
    narrowed = {"testCaseIds": ids(*names)} if names else {}
    return {"trigger": "API", "testPlanShortId": PLAN, **narrowed}


@pytest.fixture
def project(simulator: Simulator) -> SimulatedProject:
    simulator.project = SimulatedProject([SimulatedPlan("Nightly regression", nightly, PLAN)])
    return simulator.project


def cached(pytester: pytest.Pytester, *cases: KnownCase, failed: Sequence[str] = ()) -> None:
    """pytest's cache, through pytest's own Cache, holding these cases of the plan (and these
    of them as last failed), as a session that ran the plan leaves it."""
    config = pytester.parseconfigure()
    assert config.cache is not None
    known = PlanCases(PLAN, cases, "st001274", "2026-12-03T10:00:00+00:00")
    config.cache.set(CACHE_KEY + PLAN, to_data(known))
    config.cache.set("cache/lastfailed", {f"qatech::{PLAN}::{name}": True for name in failed})


@pytest.fixture
def learnt(pytester: pytest.Pytester) -> None:
    """What a session that ran the whole plan leaves: the plan's six cases, the ids of the two
    that failed (their details were read), and those two as last failed.
    ``lf_starts_only_what_failed_last_time_under_the_same_node_ids`` runs that session."""
    cases = (KnownCase(name, ids(name)[0] if name in FAILING else None) for name in NAMES)
    cached(pytester, *cases, failed=FAILING)


def starts(project: SimulatedProject) -> list[dict[str, Any]]:
    return project.starts


def listings(simulator: Simulator) -> int:
    return sum(request.path == "/v1/test-cases" for request in simulator.requests)


def test_lf_starts_only_what_failed_last_time_under_the_same_node_ids(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    # The first session runs the whole plan, and leaves what the next one selects among.
    run_session(pytester, *FAST, "--qatech-plan", PLAN).assert_outcomes(passed=4, failed=2)
    project.starts.clear()
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "--lf", "-v")
    assert starts(project) == [body(*FAILING)]
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            f"qatech: test plan {PLAN}: starting 2 of its 6 cases, as --lf selected them (its "
            "cases as QA.tech run st* listed them, 20*): Checkout with saved card, Coupon code "
            "applies",
            f"qatech::{PLAN}::Checkout with saved card FAILED*",
            f"qatech::{PLAN}::Coupon code applies FAILED*",
        ]
    )


@pytest.mark.usefixtures("learnt")
def test_k_looks_up_the_ids_the_last_run_did_not_give(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    # The details of a pass are not read by default: its id comes from the test cases' list.
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "-k", "Coupon or Wishlist")
    assert starts(project) == [body("Coupon code applies", "Wishlist keeps items")]
    assert listings(simulator) == 1
    result.assert_outcomes(passed=1, failed=1)


@pytest.mark.usefixtures("learnt")
def test_m_selects_with_the_markers_the_project_s_hooks_add(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    pytester.makeconftest(
        """
import pytest

def pytest_collection_modifyitems(items):
    for item in items:
        if "Profile" in item.name or "Search" in item.name:
            item.add_marker(pytest.mark.slow)
"""
    )
    pytester.makeini("[pytest]\nmarkers = slow\n")
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "-m", "slow")
    assert starts(project) == [body("Search finds a product", "Profile photo upload")]
    result.assert_outcomes(passed=2)


@pytest.mark.usefixtures("learnt")
def test_a_node_id_as_an_argument_starts_that_case(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, f"qatech::{PLAN}::Login flow test")
    assert starts(project) == [body("Login flow test")]
    result.assert_outcomes(passed=1)


@pytest.mark.usefixtures("learnt")
def test_deselect_leaves_a_case_out_of_the_start(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    result = run_session(
        pytester, *FAST, "--qatech-plan", PLAN, "--deselect", f"qatech::{PLAN}::Login flow test"
    )
    assert starts(project) == [body(*NAMES[1:])]
    result.assert_outcomes(passed=3, failed=2, deselected=0)
    # Counted once, as pytest counts a local test it deselects.
    result.stdout.fnmatch_lines(["*2 failed, 3 passed in *"])


@pytest.mark.usefixtures("learnt")
def test_a_selection_of_nothing_starts_nothing_and_says_so(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_local="def test_local():\n    pass\n")
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "-m", "not remote")
    assert starts(project) == []
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"qatech: test plan {PLAN}: -m selected none of its 6 cases (*): no run is started"]
    )


@pytest.mark.usefixtures("learnt")
def test_a_selection_of_everything_starts_the_plan_as_without_narrowing(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    run_session(pytester, *FAST, "--qatech-plan", PLAN, "-k", "qatech")
    assert starts(project) == [body()]


@pytest.mark.usefixtures("learnt")
def test_a_case_that_cannot_be_mapped_runs_the_whole_plan_with_a_warning(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    project.test_cases_answers[0] = Answer(403, {"message": "Forbidden"})
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "-k", "Wishlist")
    assert starts(project) == [body()]
    result.stdout.fnmatch_lines(
        [
            "qatech: warning: the project's test cases could not be read, so cases without a "
            "known id could not be named: GET http://127.0.0.1:*/v1/test-cases failed: HTTP 403*",
            f"qatech: test plan {PLAN}: warning: no id is known for 1 of the 1 cases -k "
            "selected ('Wishlist keeps items'), so its whole plan is started rather than leave "
            "them out",
        ]
    )
    # What the whole plan reports, -k still selects: one item.
    result.assert_outcomes(passed=1)


@pytest.mark.usefixtures("learnt")
def test_collect_only_says_what_would_be_started_and_starts_nothing(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_local="def test_local():\n    pass\n")
    listed = run_session(pytester, *FAST, "--qatech-plan", PLAN, "--lf", "--co", "-q")
    # As for local tests: the node ids of what would run (--lf keeps no local test here).
    assert listed.outlines[:3] == [
        f"qatech::{PLAN}::Checkout with saved card",
        f"qatech::{PLAN}::Coupon code applies",
        "",
    ]
    listed.stdout.fnmatch_lines(["2/3 tests collected (1 deselected) in *"])
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "--lf", "--co")
    assert starts(project) == []
    assert simulator.requests == []
    result.stdout.fnmatch_lines(
        [
            f"qatech: test plan {PLAN}: would start 2 of its 6 cases, as --lf selected them *: "
            "Checkout with saved card, Coupon code applies",
        ]
    )


@pytest.mark.usefixtures("learnt")
def test_under_xdist_the_controller_starts_once_what_its_workers_select(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    # With a rerun and JUnit too: the controller, which runs remote items, writes the rerun
    # elements (test_surefire.py holds their shape in one process).
    result = run_session(pytester,
        *FAST, "--qatech-plan", PLAN, "--lf", "-n", "2", "--qatech-reruns", "1",
        "--junitxml=report.xml",
    )  # fmt: skip
    assert starts(project) == [body(*FAILING)]
    assert project.reruns == [("st001274", "st001274r1")]
    result.assert_outcomes(failed=2)
    cases = ET.parse(pytester.path / "report.xml").iter("testcase")
    assert [[child.tag for child in case] for case in cases] == [
        ["properties", "failure", "rerunFailure"]
    ] * 2


@pytest.mark.usefixtures("learnt")
def test_the_whole_plan_option_turns_narrowing_off(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "--lf", "--qatech-whole-plan")
    assert starts(project) == [body()]
    # --lf still chooses what is reported.
    result.assert_outcomes(failed=2)


def test_a_plan_no_session_has_run_is_started_whole_and_says_why(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "-k", "Coupon")
    assert starts(project) == [body()]
    result.stdout.fnmatch_lines(
        [
            f"qatech: test plan {PLAN}: its cases are not known (no session here has run "
            "it), so -k cannot narrow it: its whole plan is started"
        ]
    )
    # The next session knows them.
    project.starts.clear()
    run_session(pytester, *FAST, "--qatech-plan", PLAN, "-k", "Coupon")
    assert starts(project) == [body("Coupon code applies")]


def test_lf_starts_nothing_when_only_local_tests_failed_last_time(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_local="def test_local_fails():\n    assert False\n")
    # The plan's cases reported last time all passed: -k chose only the passing one.
    run_session(pytester, *FAST, "--qatech-plan", PLAN, "-k", "Login or local")
    project.starts.clear()
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "--lf")
    # The session's --lf keeps only the local failure: a run of the plan would go unreported.
    assert starts(project) == []
    result.assert_outcomes(failed=1)


def test_a_node_id_of_a_case_the_cache_lacks_but_the_project_has_starts_the_whole_plan(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    # A case added to the plan since the cache was written: the project's test cases have it,
    # so the whole plan runs, and the node id is looked for among its cases.
    cached(pytester, KnownCase("Login flow test", ids("Login flow test")[0]))
    result = run_session(
        pytester, *FAST, "--qatech-plan", PLAN, f"qatech::{PLAN}::Coupon code applies"
    )
    assert listings(simulator) == 1
    assert starts(project) == [body()]
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"qatech: test plan {PLAN}: starting all its cases: node ids name cases its 1 known "
            "cases (*) lack ('Coupon code applies'), which may have joined it since"
        ]
    )


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["one-process", "xdist"])
@pytest.mark.usefixtures("learnt")
def test_a_mistyped_node_id_starts_nothing_and_names_the_closest_case(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester, xdist: list[str]
) -> None:
    typo = f"qatech::{PLAN}::Coupon code aplies"
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, typo, *xdist)
    assert [request.method for request in simulator.requests] == ["GET"]  # the test cases
    assert starts(project) == []
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: not found: {typo} (no case of test plan {PLAN}, nor any test case of the "
            "project, has this name; the closest: 'Coupon code applies'): nothing was started"
        ]
    )


def test_a_start_refused_for_a_case_gone_from_the_project_starts_nothing_and_forgets_it(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    cached(pytester, KnownCase("Retired case", "gone-id"), KnownCase("Coupon code applies", "c"))
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "-k", "Retired")
    posted = [r.body for r in simulator.requests if r.method == "POST"]
    # The whole plan, which -k would report nothing of, is never started.
    assert posted == [{**body(), "testCaseIds": ["gone-id"]}]
    assert listings(simulator) == 1
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(
        [
            f"qatech: test plan {PLAN}: warning: QA.tech refused the start of the 1 case -k "
            "selected (POST http://127.0.0.1:*/v1/run failed: HTTP 400 Bad Request*); gone "
            "from the project's test cases, so forgotten: 'Retired case'; no run is started: a "
            "run of the whole plan might report none of them (--qatech-whole-plan starts it "
            "all the same)"
        ]
    )
    # The next session knows it is gone: the plan's known cases lack it.
    config = pytester.parseconfigure()
    assert config.cache is not None
    assert [case["name"] for case in config.cache.get(CACHE_KEY + PLAN, {})["cases"]] == [
        "Coupon code applies"
    ]


def test_a_start_refused_for_a_stale_id_starts_the_case_by_the_id_the_project_lists(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    cached(pytester, KnownCase("Coupon code applies", "stale-id"), KnownCase("Login flow test"))
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "-k", "Coupon")
    posted = [r.body for r in simulator.requests if r.method == "POST"]
    assert posted == [{**body(), "testCaseIds": ["stale-id"]}, body("Coupon code applies")]
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [f"qatech: test plan {PLAN}: warning: QA.tech refused the start of the 1 case -k "
         "selected (*); starting the 1 left"]
    )  # fmt: skip


#: A project's root conftest.py, whose item hooks mark or rename one case of the plan.
ROOT_HOOKS = {
    "marker": """
import pytest

def pytest_qatech_modify_item(item, case):
    if case.name == "Coupon code applies":
        item.add_marker(pytest.mark.smoke)
""",
    "name": """
def pytest_qatech_item_name(case, run_id):
    return "coupon_smoke" if case.name == "Coupon code applies" else None
""",
}


@pytest.mark.parametrize("hook", sorted(ROOT_HOOKS))
@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["one-process", "xdist"])
@pytest.mark.usefixtures("learnt")
def test_the_root_conftest_s_item_hooks_narrow_under_a_path_argument(
    project: SimulatedProject, pytester: pytest.Pytester, hook: str, xdist: list[str]
) -> None:
    # As nearly every project runs pytest: a path as argument. Before the session starts,
    # pytest has loaded only that path's conftests; collection loads the root's on its way.
    pytester.makeconftest(ROOT_HOOKS[hook])
    pytester.makeini("[pytest]\nmarkers = smoke\n")
    pytester.mkdir("tests").joinpath("test_local.py").write_text("def test_local():\n    pass\n")
    select = ["-m", "smoke"] if hook == "marker" else ["-k", "coupon_smoke"]
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, *select, *xdist, "tests")
    assert starts(project) == [body("Coupon code applies")]
    result.assert_outcomes(failed=1)


def test_without_pytest_s_cache_a_plan_is_started_whole_and_the_header_says_why(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    result = run_session(
        pytester, *FAST, "--qatech-plan", PLAN, "-k", "Coupon", "-p", "no:cacheprovider"
    )
    assert starts(project) == [body()]
    result.stdout.fnmatch_lines(
        [
            f"qatech: test plan {PLAN}: its cases are not known (pytest's cache is off, as with "
            "-p no:cacheprovider), so -k cannot narrow it: its whole plan is started"
        ]
    )


def test_the_default_plan_is_started_whole_and_the_header_says_the_selection_cannot_narrow_it(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.project = SimulatedProject([SimulatedPlan("Nightly regression", nightly)])
    result = run_session(pytester, *FAST, "--qatech-start", "-k", "Coupon")
    assert simulator.project.starts == [{"trigger": "API"}]
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "qatech: the default test plan: -k cannot narrow it (which plan it is, and so its "
            "cases, are known only once it starts): the whole plan is started; give "
            "--qatech-plan to narrow a plan"
        ]
    )


def test_a_plan_no_session_has_run_is_not_started_when_the_selection_takes_no_test_case(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_local="def test_local():\n    pass\n")
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "-k", "local")
    # The project's test cases stand in for the plan's: -k takes none, so nothing is paid for.
    assert listings(simulator) == 1
    assert starts(project) == []
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            f"qatech: test plan {PLAN}: its cases are not known (no session here has run it), "
            "and -k selected none of the project's 6 test cases: no run is started"
        ]
    )


def test_a_plan_no_session_has_run_is_started_whole_when_the_test_cases_cannot_be_read(
    simulator: Simulator, project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    project.test_cases_answers[0] = Answer(403, {"message": "Forbidden"})
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "-k", "local")
    assert starts(project) == [body()]
    result.stdout.fnmatch_lines(
        [
            f"qatech: test plan {PLAN}: its cases are not known (no session here has run it) and "
            "the project's test cases could not be read (GET http://127.0.0.1:*/v1/test-cases "
            "failed: HTTP 403*), so -k cannot narrow it: its whole plan is started"
        ]
    )


@pytest.mark.usefixtures("learnt")
def test_the_whole_plan_option_starts_nothing_the_selection_takes_none_of(
    project: SimulatedProject, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_local="def test_local():\n    pass\n")
    result = run_session(
        pytester, *FAST, "--qatech-plan", PLAN, "--qatech-whole-plan", "-m", "not remote"
    )
    assert starts(project) == []
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"qatech: test plan {PLAN}: -m selected none of its 6 cases (*): no run is started"]
    )


@pytest.mark.parametrize(
    "arguments",
    [
        ["-c", "pytest.ini", "tests"],
        ["--rootdir", ".", "tests"],
        ["-p", "no:doctest", "tests/test_local.py"],
        ["tests/test_local.py::test_local"],
    ],
    ids=["-c", "--rootdir", "-p", "a node id"],
)
@pytest.mark.usefixtures("learnt")
def test_the_root_conftest_s_hooks_narrow_under_any_arguments(
    project: SimulatedProject, pytester: pytest.Pytester, arguments: list[str]
) -> None:
    pytester.makeconftest(ROOT_HOOKS["marker"])
    pytester.makefile(".ini", pytest="[pytest]\nmarkers = smoke\n")
    pytester.mkdir("tests").joinpath("test_local.py").write_text("def test_local():\n    pass\n")
    result = run_session(pytester, *FAST, "--qatech-plan", PLAN, "-m", "smoke", *arguments)
    assert starts(project) == [body("Coupon code applies")]
    result.assert_outcomes(failed=1)
