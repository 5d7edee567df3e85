"""GitHub Actions: a job summary (``GITHUB_STEP_SUMMARY``) and error annotations.

The pytest plugin writes both from the test reports of remote items, so they describe what the
session actually ran, in the process that reports (the xdist controller, or the only process).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from pytest_qatech.core.models import FinishedRun, RunReport
from pytest_qatech.core.text import first_line, visible


@dataclass(frozen=True)
class Problem:
    """A remote item that did not pass: ``kind`` is ``failed`` or ``error``; ``url`` is where a
    person sees it (the case's page, else its run's), when known."""

    nodeid: str
    kind: str
    headline: str
    url: str | None = None


def error_annotations(problems: Iterable[Problem]) -> list[str]:
    """``::error`` workflow commands, one per problem: the node id as title, the headline."""
    # The runner's own escaping first (it turns \r into %0D), then the other control characters.
    return [
        f"::error title={_property(problem.nodeid)}::{visible(_data(first_line(problem.headline)))}"
        for problem in problems
    ]


def step_summary(
    titles: Mapping[str, str], reports: Iterable[RunReport], problems: Sequence[Problem]
) -> str:
    """Markdown for the job summary: what did not pass first, then a row per run.

    ``titles`` maps provider names to how people write them.
    """
    lines = ["## Remote test runs", ""]
    if problems:
        lines += ["| | test | why |", "| --- | --- | --- |"]
        for problem in sorted(problems, key=lambda p: p.kind != "failed"):
            mark = "❌" if problem.kind == "failed" else "⚠️"
            headline = _cell(first_line(problem.headline))
            test = _linked(f"`{_cell(problem.nodeid)}`", problem.url)
            lines.append(f"| {mark} {problem.kind} | {test} | {headline} |")
        lines.append("")
    lines += ["| run | status | cases |", "| --- | --- | --- |"]
    for report in reports:
        run = _linked(_cell(f"{titles[report.provider]} {report.run_id}"), report.url)
        if isinstance(report, FinishedRun):
            status = report.status if report.result is None else f"{report.status}, {report.result}"
            row = (status, report.tally() or "none")
        else:
            row = (report.last_status or "unknown", "could not be read")
        lines.append(f"| {run} | " + " | ".join(_cell(cell) for cell in row) + " |")
    return "\n".join(lines) + "\n\n"


def is_github_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def _linked(text: str, url: str | None) -> str:
    if not url:
        return text
    # The link may come from the remote service: nothing in it may end the Markdown link.
    target = "".join(c if c.isprintable() and c not in " ()<>|" else quote(c) for c in url)
    return f"[{text}]({target})"


def _cell(text: str) -> str:
    return " ".join(visible(text).split()).replace("|", "\\|")


# Workflow command escaping, as GitHub's runner reads it.
def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
