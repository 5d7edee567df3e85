"""Reruns in the JUnit shape CI tools read for them: Maven Surefire's ``flakyFailure``,
``rerunFailure`` and their error twins, one testcase per case, valid against the testcase
part of ``surefire-test-report-3.0.xsd``, in both front ends."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from pytest_qatech.cli import main as qatech_junit
from pytest_qatech.core.models import Attempt, FinishedRun, Outcome, RemoteCase, StartedRun, Step
from pytest_qatech.core.rendering import render_case
from pytest_qatech.core.surefire import Element, RerunElements, rerun_elements, written
from pytest_qatech.simulator import SimulatedProject, SimulatedRun, Simulator, case, environment

from .helpers import FAST, run_session

SCHEMA = xmlschema.XMLSchema(str(Path(__file__).parent / "schemas" / "surefire-testcase.xsd"))
RUN = FinishedRun(
    "qatech",
    "abc",
    "COMPLETED",
    "FAILED",
    (),
    reruns=(StartedRun("abcr1"), StartedRun("abcr2")),
)


def attempt(outcome: Outcome, headline: str, run_id: str = "abc") -> Attempt:
    return Attempt(run_id, outcome, headline, f"why {headline}")


def rerun_case(outcome: Outcome, *earlier: Attempt) -> RemoteCase:
    headline = "" if outcome is Outcome.PASSED else "last time"
    return RemoteCase("Checkout", outcome, headline, "why last", attempts=earlier)


def elements_of(case: RemoteCase) -> RerunElements | None:
    return rerun_elements(RUN, case, render_case(RUN, case))


def test_a_flaky_case_keeps_its_pass_and_gains_a_flaky_element_per_failing_attempt() -> None:
    case = rerun_case(
        Outcome.PASSED,
        attempt(Outcome.FAILED, "no button", "abc"),
        attempt(Outcome.ERROR, "AGENT_TIMEOUT", "abcr1"),
    )
    assert elements_of(case) == RerunElements(
        None,
        (
            Element(
                "flakyFailure",
                "no button",
                "RemoteFailure",
                "no button\n\nwhy no button\n\nQA.tech run abc",
            ),
            Element(
                "flakyError",
                "AGENT_TIMEOUT",
                "RemoteVerdict",
                "AGENT_TIMEOUT\n\nwhy AGENT_TIMEOUT\n\nQA.tech run abcr1",
            ),
        ),
    )


def test_a_case_failing_every_time_has_its_first_failure_and_a_rerun_element_per_later_one() -> (
    None
):
    case = rerun_case(
        Outcome.FAILED,
        attempt(Outcome.FAILED, "first", "abc"),
        attempt(Outcome.FAILED, "second", "abcr1"),
    )
    rendered = render_case(RUN, case)
    elements = elements_of(case)
    assert elements is not None
    assert elements.verdict == Element(
        "failure",
        "first",
        "RemoteFailure",
        # The first attempt, then the case's own words: every attempt, and its run.
        f"first\n\nwhy first\n\nQA.tech run abc\n\n{rendered.details}",
    )
    assert rendered.details.startswith("3 attempts:\n  1. QA.tech run abc: failed: first")
    assert elements.reruns == (
        Element(
            "rerunFailure", "second", "RemoteFailure", "second\n\nwhy second\n\nQA.tech run abcr1"
        ),
        # The last attempt as the case's failure showed it in full.
        Element("rerunFailure", "last time", "RemoteFailure", rendered.text),
    )


def test_an_error_or_a_failure_keeps_its_kind_in_each_attempt() -> None:
    case = rerun_case(Outcome.ERROR, attempt(Outcome.FAILED, "first"))
    elements = elements_of(case)
    assert elements is not None
    assert elements.verdict is not None
    # The testcase's verdict stays what the last attempt gave, as every reader counts it.
    assert (elements.verdict.tag, elements.verdict.message) == ("error", "first")
    assert [(e.tag, e.type) for e in elements.reruns] == [("rerunError", "RemoteVerdict")]


def test_an_earlier_attempt_shows_its_own_steps() -> None:
    steps = (Step(1, intent="click pay"),)
    earlier = Attempt("abc", Outcome.FAILED, "first", "why", steps, 9)
    elements = elements_of(rerun_case(Outcome.PASSED, earlier))
    assert elements is not None
    assert elements.reruns[0].text.startswith(
        "Steps: 1 of 9\nstep 1 of 9\n    meant: click pay\n  ... steps 2 to 9 not read ...\n\nfirst"
    )


@pytest.mark.parametrize(
    "case",
    [
        RemoteCase("Checkout", Outcome.FAILED, "once"),
        rerun_case(Outcome.FAILED, attempt(Outcome.SKIPPED, "was off")),
        rerun_case(Outcome.SKIPPED, attempt(Outcome.FAILED, "first")),
        rerun_case(Outcome.PASSED, attempt(Outcome.SKIPPED, "was off")),
    ],
    ids=["not rerun", "skipped then failed", "failed then skipped", "skipped then passed"],
)
def test_a_case_without_two_failures_or_a_flaky_pass_keeps_its_testcase(case: RemoteCase) -> None:
    assert elements_of(case) is None


def test_the_elements_go_in_the_order_of_the_xsd() -> None:
    children = [ET.Element(tag) for tag in ("system-out", "error", "properties")]
    children[1].text = "as pytest wrote it"
    elements = RerunElements(
        Element("error", "first", "RemoteVerdict", "the first"),
        (Element("rerunError", "b", "RemoteVerdict", "B"), Element("rerunFailure", "a", "T", "A")),
    )
    result = written(children, elements)
    assert [child.tag for child in result] == [
        "properties", "rerunFailure", "error", "rerunError", "system-out",
    ]  # fmt: skip
    error = result[2]
    assert (error.get("message"), error.get("type"), error.text) == (
        "first", "RemoteVerdict", "the first",
    )  # fmt: skip
    assert [(c.tag, c.text) for c in result[1]] == [("stackTrace", "A")]


# In a session, and in qatech-junit: a flaky case and a case that fails every time.


def mixed_reruns(short_id: str = "abc123") -> SimulatedRun:
    return SimulatedRun(
        short_id,
        result="FAILED",
        passes_on_rerun={"Flaky": 2},
        cases=[
            case("Steady", short_id=f"{short_id}a"),
            case("Flaky", "FAILED", title="No pay button", short_id=f"{short_id}b"),
            case("Broken", "FAILED", title="The cart is empty", short_id=f"{short_id}c"),
        ],
    )


def cases_in(report: Path) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in ET.parse(report).iter("testcase")}


def assert_surefire_shape(report: Path) -> None:
    cases = cases_in(report)
    assert sorted(cases) == ["Broken", "Flaky", "Steady"]
    tags = {name: [child.tag for child in case] for name, case in cases.items()}
    assert tags["Steady"] == ["properties"]
    assert tags["Flaky"] == ["properties", "flakyFailure", "flakyFailure"]
    assert tags["Broken"] == ["properties", "failure", "rerunFailure", "rerunFailure"]
    flaky = cases["Flaky"].findall("flakyFailure")
    assert [(f.get("message"), f.get("type")) for f in flaky] == [
        ("No pay button", "RemoteFailure"), ("No pay button", "RemoteFailure"),
    ]  # fmt: skip
    stack = [f.findtext("stackTrace") or "" for f in flaky]
    # Each attempt's own steps, headline, explanation and run.
    for text, run in zip(stack, ["abc123", "abc123r1"], strict=True):
        assert text.startswith("Steps: 3\nstep 1 of 3 (1.2s)\n")
        # Said once per attempt, the headline with nothing made up beside it.
        assert text.endswith(f"No pay button\n\nQA.tech run {run}")
    broken = cases["Broken"]
    failure = broken.find("failure")
    assert failure is not None
    assert failure.get("message") == "The cart is empty"
    assert (failure.text or "").startswith("Steps: 3\n")
    assert "QA.tech run abc123\n\n3 attempts:" in (failure.text or "")
    reruns = [r.findtext("stackTrace") or "" for r in broken.findall("rerunFailure")]
    assert "QA.tech run abc123r1" in reruns[0]
    assert "3 attempts:" in reruns[1]
    # Valid against Surefire's testcase part, once the properties (which it has no place for,
    # and which every JUnit reader takes) are out.
    suite = ET.Element("testsuite", name="qatech")
    for element in cases.values():
        copy: Any = ET.fromstring(ET.tostring(element))
        for properties in copy.findall("properties"):
            copy.remove(properties)
        suite.append(copy)
    SCHEMA.validate(ET.tostring(suite, encoding="unicode"))


@pytest.mark.starts_runs
def test_a_session_writes_the_surefire_shape(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # Under xdist: narrowing::under_xdist_the_controller_starts_once_what_its_workers_select.
    simulator.project = SimulatedProject()
    simulator.add(mixed_reruns())
    result = run_session(
        pytester, *FAST, "--qatech-run", "abc123", "--qatech-reruns", "2", "--junitxml=report.xml"
    )
    result.assert_outcomes(passed=2, failed=1)
    assert result.parseoutcomes()["rerun"] == 4
    assert_surefire_shape(pytester.path / "report.xml")


@pytest.mark.starts_runs
def test_qatech_junit_writes_the_same_shape(simulator: Simulator, tmp_path: Path) -> None:
    simulator.project = SimulatedProject()
    simulator.add(mixed_reruns())
    report = tmp_path / "report.xml"
    code = qatech_junit(
        ["abc123", "--reruns", "2", *FAST, "-o", str(report)], environment(simulator.url)
    )
    assert code == 1
    assert_surefire_shape(report)


def test_the_schema_refuses_what_surefire_would_not_write() -> None:
    """The validation above means something."""
    good = (
        '<testsuite name="s"><testcase name="t" time="1"><failure type="T"/></testcase></testsuite>'
    )
    SCHEMA.validate(good)
    for bad in (
        good.replace('<failure type="T"/>', '<rerunFailure type="T"/>'),  # no stackTrace
        good.replace('<failure type="T"/>', "<failure/>"),  # no type
        good.replace(
            '<failure type="T"/>',
            '<error type="T"/><rerunFailure type="T"><stackTrace/></rerunFailure>',
        ),  # out of order
        good.replace(
            '<failure type="T"/>', '<flakyFailure type="T"><stackTrace/><x/></flakyFailure>'
        ),
    ):
        assert not SCHEMA.is_valid(bad), bad


def test_a_verdict_without_its_element_and_an_element_surefire_does_not_know() -> None:
    children = [ET.Element("custom"), ET.Element("system-out")]
    elements = RerunElements(
        Element("failure", "first", "RemoteFailure", "the first"),
        (Element("rerunFailure", "a", "RemoteFailure", "A"),),
    )
    # Nothing to put the verdict's words in: nothing is made up; what Surefire does not know
    # goes last.
    assert [child.tag for child in written(children, elements)] == [
        "rerunFailure", "system-out", "custom",
    ]  # fmt: skip
