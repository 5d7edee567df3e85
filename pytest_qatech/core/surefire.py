"""A rerun case's attempts in the JUnit shape that CI tools read for reruns: Maven Surefire's
(``surefire-test-report-3.0.xsd`` in apache/maven-surefire), which Jenkins' JUnit plugin and
action-junit-report's flaky table read; GitLab and others ignore these elements and count the
testcase's verdict.

One ``<testcase>`` per case. A case that passed after failing (or giving no verdict) keeps its
pass and gains a ``<flakyFailure>`` (``<flakyError>``) per attempt that did not pass, each
holding that attempt's ``<stackTrace>``. A case that did not pass in the end has its first
failing attempt as its ``<failure>`` (``<error>``), followed by the case's own words (the
attempts, the goal, the links), and a ``<rerunFailure>`` (``<rerunError>``) per later attempt,
its last one included. The testcase's elements go in the order the XSD's sequence gives.
Both front ends write what :func:`rerun_elements` says.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from pytest_qatech.core.models import Attempt, Outcome, RemoteCase, RunFacts
from pytest_qatech.core.options import run_label, title_of
from pytest_qatech.core.rendering import Rendered, TraceStyle, attempt_run_ids, trace_text
from pytest_qatech.core.text import visible

#: The order of a testcase's elements in the XSD's sequence (``properties``, which Surefire
#: does not write but every JUnit reader takes, first).
ORDER = (
    "properties",
    "failure",
    "rerunFailure",
    "flakyFailure",
    "skipped",
    "error",
    "rerunError",
    "flakyError",
    "system-out",
    "system-err",
)
#: The ``type`` of each element (the XSD requires one): the exception a remote verdict is
#: raised as in a pytest session, as a local failure's type is its exception's.
TYPES = {Outcome.FAILED: "RemoteFailure", Outcome.ERROR: "RemoteVerdict"}


@dataclass(frozen=True, slots=True)
class Element:
    """A JUnit element of a rerun case: its tag, ``message`` and ``type`` attributes, and its
    text (a rerun or flaky element's ``<stackTrace>``; a failure's or error's own text)."""

    tag: str
    message: str
    type: str
    text: str


@dataclass(frozen=True, slots=True)
class RerunElements:
    """What a rerun case's testcase holds besides its properties: ``verdict`` replaces the
    failure or error that its last attempt gave (None for a pass), and ``reruns`` are added."""

    verdict: Element | None
    reruns: tuple[Element, ...]


def rerun_elements(
    run: RunFacts, case: RemoteCase, rendered: Rendered, style: TraceStyle | None = None
) -> RerunElements | None:
    """The Surefire shape of ``case``'s attempts, ``rendered`` being its last attempt in words;
    None for a case that never failed (or was not rerun), whose testcase stays as it is, and
    for a case skipped in the end, for which Surefire has no shape."""
    # Its run is attempt_run_ids' to say, as for the earlier ones.
    last = Attempt("", case.outcome, case.headline)
    attempts = [*case.attempts, last]
    failing = [
        (attempt, run_id)
        for attempt, run_id in zip(attempts, attempt_run_ids(run, case), strict=True)
        if attempt.outcome.fails
    ]
    style = style or TraceStyle()
    title = title_of(run.provider)

    def text(attempt: Attempt, run_id: str) -> str:
        if attempt is last:
            return rendered.text
        return _attempt_text(case, attempt, run_label(title, run_id), style)

    if case.outcome is Outcome.PASSED and failing:
        return RerunElements(None, tuple(_element("flaky", a, text(a, r)) for a, r in failing))
    if not case.outcome.fails or len(failing) < 2:
        return None
    (first, first_run), *later = failing
    # The case's own words (every attempt, the goal, the links) stay with the verdict that
    # every JUnit reader shows, the one that ignores the rerun elements too.
    verdict_text = "\n\n".join(part for part in (text(first, first_run), rendered.details) if part)
    reruns = tuple(_element("rerun", a, text(a, r)) for a, r in later)
    # Its kind stays the last attempt's: the testcase's verdict, which every reader counts.
    verdict = Element(
        _tag(case.outcome), visible(first.headline), TYPES[case.outcome], verdict_text
    )
    return RerunElements(verdict, reruns)


def _tag(outcome: Outcome, kind: str = "") -> str:
    """``failure`` or ``error``, or with ``kind`` (``rerun``, ``flaky``): ``rerunFailure``..."""
    name = "failure" if outcome is Outcome.FAILED else "error"
    return f"{kind}{name.capitalize()}" if kind else name


def _element(kind: str, attempt: Attempt, text: str) -> Element:
    """A rerun or flaky element (``kind``) of what ``attempt`` gave."""
    return Element(
        _tag(attempt.outcome, kind), visible(attempt.headline), TYPES[attempt.outcome], text
    )


def _attempt_text(case: RemoteCase, attempt: Attempt, run: str, style: TraceStyle) -> str:
    """What an attempt's failure showed: its steps, headline and explanation, and its run."""
    # Only the attempt's steps make its trace.
    then = dataclasses.replace(case, steps=attempt.steps, steps_total=attempt.steps_total)
    parts = (trace_text(then, style), attempt.headline, attempt.explanation, run)
    return visible("\n\n".join(part for part in parts if part))


def written(children: list[ET.Element], elements: RerunElements) -> list[ET.Element]:
    """A testcase's child elements (``properties``, its failure, ``system-out``, ...) with
    ``elements`` written in: the verdict's words in its failure or error, each rerun or flaky
    element added, all in the XSD's order."""
    verdict = elements.verdict
    node = next((c for c in children if verdict is not None and c.tag == verdict.tag), None)
    if verdict is not None and node is not None:
        node.set("message", verdict.message)
        node.set("type", verdict.type)
        node.text = verdict.text
    added = []
    for element in elements.reruns:
        rerun = ET.Element(element.tag, message=element.message, type=element.type)
        ET.SubElement(rerun, "stackTrace").text = element.text
        added.append(rerun)
    rank = {tag: place for place, tag in enumerate(ORDER)}
    return sorted([*children, *added], key=lambda child: rank.get(child.tag, len(ORDER)))
