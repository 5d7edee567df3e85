"""A start or a rerun is a paid run: over many sessions, with what pytest's cache holds, the
selection and the options drawn at random, every run the plugin starts is waited for to its end
and reports at least one case, every rerun's verdicts are reported, and a usage error starts
nothing."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pytest_qatech.core.codec import to_data
from pytest_qatech.core.plan_cases import CACHE_KEY, KnownCase, PlanCases
from pytest_qatech.simulator import SimulatedPlan, SimulatedProject, Simulator, environment
from pytest_qatech.simulator.demo import nightly
from pytest_qatech.simulator.qatech import project_case_id

from .helpers import FAST, run_session
from .test_narrowing import NAMES, PLAN

pytestmark = pytest.mark.starts_runs

#: A name the plan has, a typo of one, and one no test case has any more.
NODE_NAMES = [*NAMES, "Coupon code aplies"]
KEYWORDS = ["Login", "Coupon", "card", "Search or Wishlist", "not Coupon", "local", "zzz"]


@dataclass(frozen=True)
class Session:
    #: The plan's cases pytest's cache holds (None: no session here has run it), and whether
    #: with their ids.
    known: tuple[str, ...] | None
    with_ids: bool
    #: What failed last time, by name ("local": the local test).
    failed: tuple[str, ...]
    arguments: tuple[str, ...]


def node_id(name: str) -> str:
    return "test_local.py::test_local" if name == "local" else f"qatech::{PLAN}::{name}"


selections = st.one_of(
    st.just(()),
    st.sampled_from(KEYWORDS).map(lambda word: ("-k", word)),
    st.sampled_from(["remote", "not remote", "qatech"]).map(lambda mark: ("-m", mark)),
    st.just(("--lf",)),
    st.sampled_from(NODE_NAMES).map(lambda name: (node_id(name),)),
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True).map(
        lambda names: tuple(arg for name in names for arg in ("--deselect", node_id(name)))
    ),
)
options = st.lists(
    st.sampled_from([("--qatech-reruns", "1"), ("--qatech-whole-plan",)]),
    unique=True,
).map(lambda chosen: tuple(arg for option in chosen for arg in option))


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    known = draw(
        st.none()
        | st.lists(st.sampled_from([*NAMES, "Retired case"]), min_size=1, unique=True).map(tuple)
    )
    failed = draw(st.lists(st.sampled_from([*NAMES, "local"]), max_size=3, unique=True))
    arguments = (*draw(selections), *draw(options))
    return Session(known, draw(st.booleans()), tuple(failed), arguments)


def cached(key: str, value: object, root: Path) -> None:
    """``value`` in pytest's cache under ``key``, in the file ``Cache.set`` writes."""
    path = root / ".pytest_cache" / "v" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, sort_keys=True), encoding="utf-8")


def reported_runs(report: ET.Element) -> set[str]:
    """The runs whose verdicts the JUnit report holds: each case's run and its attempts'."""
    return {
        prop.get("value", "")
        for prop in report.iter("property")
        if prop.get("name", "").endswith("run_short_id")
    }


@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(session=sessions())
def test_every_run_started_is_waited_for_and_reports_a_case(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, session: Session
) -> None:
    shutil.rmtree(pytester.path / ".pytest_cache", ignore_errors=True)
    pytester.makepyfile(test_local="def test_local():\n    pass\n")
    # What pytest's cache holds, written as it writes it (``Cache.set``): a configured pytest
    # per example would cost a quarter of a second more, at its teardown.
    cached("cache/lastfailed", {node_id(name): True for name in session.failed}, pytester.path)
    if session.known is not None:
        cases = tuple(
            KnownCase(name, project_case_id({"name": name}) if session.with_ids else None)
            for name in session.known
        )
        known = PlanCases(PLAN, cases, "st000001", "2026-12-03T10:00:00+00:00")
        cached(CACHE_KEY + PLAN, to_data(known), pytester.path)
    project = SimulatedProject([SimulatedPlan("Nightly regression", nightly, PLAN)])
    with Simulator(project=project) as simulator:
        for name, value in environment(simulator.url).items():
            monkeypatch.setenv(name, value)
        result = run_session(
            pytester, *FAST, "--qatech-plan", PLAN, *session.arguments, "--junitxml=report.xml"
        )
    output = result.stdout.str()
    assert "Traceback" not in output
    if result.ret == pytest.ExitCode.USAGE_ERROR:
        assert project.started == []  # a mistake costs nothing
        return
    reported = reported_runs(ET.parse(pytester.path / "report.xml").getroot())
    for run_id in project.started:
        assert f"QA.tech run {run_id}: COMPLETED" in output  # waited for to its end
        assert run_id in reported  # and looked at
    for _, rerun in project.reruns:
        assert rerun in reported
