"""Results as people and JUnit read them, rendered once from the models' fields.

A case's words come from its platform (:meth:`~pytest_qatech.core.providers.base.Provider.
describe`); what every front end shows the same way (the run summary, a run's problem) is here.
Every remote text goes through :func:`~pytest_qatech.core.text.visible` on its way out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pytest_qatech.core.models import FinishedRun, RemoteCase, RunReport, UnreadableRun
from pytest_qatech.core.platforms import provider_class
from pytest_qatech.core.settings import run_label
from pytest_qatech.core.text import visible


@dataclass(frozen=True, slots=True)
class Rendered:
    """What an item shows: a one-line headline, the text below it, its JUnit properties and
    further named texts."""

    headline: str
    details: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    sections: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        return self.headline if not self.details else f"{self.headline}\n\n{self.details}"


def render_case(run: FinishedRun, case: RemoteCase) -> Rendered:
    description = provider_class(run.provider).describe(run, case)
    return Rendered(
        visible(case.headline),
        visible(description.details),
        description.properties,
        tuple((title, visible(text)) for title, text in description.sections),
    )


def render_problem(run: RunReport) -> Rendered:
    """The error that stands for a run that ended badly, or could not be read."""
    if isinstance(run, UnreadableRun):
        return Rendered(visible(run.message))
    assert run.problem is not None
    return Rendered(visible(run.problem), tally_sentence(run))


def case_link(run: FinishedRun, case: RemoteCase | None) -> str | None:
    """Where a person sees a case: its page, else its run's."""
    page = case.link("case") if case is not None else None
    return page or run.url


def tally_sentence(run: FinishedRun) -> str:
    noun = "case" if len(run.cases) == 1 else "cases"
    tally = run.tally()
    return f"The run reported {len(run.cases)} {noun}" + (f": {tally}." if tally else ".")


def summary_lines(titles: Mapping[str, str], reports: Iterable[RunReport]) -> list[str]:
    """A line per run; ``titles`` maps provider names to how people write them."""
    lines = []
    for report in reports:
        run = run_label(titles[report.provider], report.run_id)
        if isinstance(report, FinishedRun):
            # Only QA.tech has a result beside the status; for the others the status says it.
            result = f", result {report.result}" if report.result is not None else ""
            line = f"{run}: {report.status}{result} - {report.tally() or 'no cases'}"
        else:
            line = (
                f"{run}: could not be read "
                f"(last status {report.last_status or 'unknown'}); see the error above"
            )
        lines.append(visible(f"{line} - {report.url}" if report.url else line))
    return lines
