"""GitHub Actions: a job summary (``GITHUB_STEP_SUMMARY``) and error annotations.

The pytest plugin writes both from the test reports of remote items, so they describe what the
session actually ran, in the process that reports (the xdist controller, or the only process).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from pytest_qatech.core import reruns
from pytest_qatech.core.models import FinishedRun, RunReport, SkippedSource
from pytest_qatech.core.options import title_of
from pytest_qatech.core.rendering import since_words, skipped_reason, unread
from pytest_qatech.core.standing import Standings
from pytest_qatech.core.text import first_line, visible


@dataclass(frozen=True)
class Problem:
    """A remote item that did not pass: ``kind`` is ``failed`` or ``error``; ``url`` is where a
    person sees it (the case's page, else its run's), when known."""

    nodeid: str
    kind: str
    headline: str
    url: str | None = None


#: GitHub Actions shows at most this many error annotations of one step, and drops the rest.
ANNOTATIONS_PER_STEP = 10
#: GitHub Actions rejects a step's job summary larger than this outright: nothing is shown.
SUMMARY_BYTES = 1024 * 1024


def error_annotations(problems: Sequence[Problem]) -> list[str]:
    """``::error`` workflow commands, one per problem (the node id as title, the headline), as
    many as GitHub shows; then, if any were left out, a plain line that says how many."""
    # The runner's own escaping first (it turns \r into %0D), then the other control characters.
    lines = [
        f"::error title={_property(problem.nodeid)}::{visible(_data(first_line(problem.headline)))}"
        for problem in problems[:ANNOTATIONS_PER_STEP]
    ]
    left_out = len(problems) - ANNOTATIONS_PER_STEP
    if left_out > 0:
        lines.append(
            f"qatech: {left_out} more remote {'test' if left_out == 1 else 'tests'} did not pass "
            f"and {'is' if left_out == 1 else 'are'} not annotated: GitHub shows "
            f"{ANNOTATIONS_PER_STEP} error annotations a step; the log and the job summary "
            "list them"
        )
    return lines


def skipped_notices(skipped: Iterable[SkippedSource]) -> list[str]:
    """A ``::notice`` workflow command per platform whose runs were skipped, its credentials
    missing: a pull request from a fork shows why its remote tests did not run."""
    return [
        f"::notice title={_property(f'{title_of(source.provider)} runs skipped')}::"
        f"{_data(f'{title_of(source.provider)}: {skipped_reason(source)}')}"
        for source in skipped
    ]


def step_summary(
    reports: Iterable[RunReport],
    problems: Sequence[Problem],
    limit: int = SUMMARY_BYTES,
    standings: Standings | None = None,
) -> str:
    """Markdown for the job summary, at most ``limit`` bytes (UTF-8): what did not pass, failures
    first, then the flaky cases, the failures new and known, the tests fixed and the quarantined
    ones (``standings``), then a row per run. Rows that do not fit are counted in an "and N
    more" row that points to the runs' pages; the row per run always stays. Empty if not even
    those rows fit.
    """
    reports = list(reports)
    lines = ["## Remote test runs", ""]
    runs = _run_rows(reports)
    # The text ends in a blank line: one byte more than its lines.
    budget = limit - _size([*lines, *runs]) - 1
    if budget < 0:
        return ""

    def more(count: int) -> str:
        return f"| … | {count} more, not shown | see the runs below |"

    tables = []
    if problems:
        rows = []
        for problem in sorted(problems, key=lambda p: p.kind != "failed"):
            mark = "❌" if problem.kind == "failed" else "⚠️"
            headline = _cell(first_line(problem.headline))
            test = _linked(f"`{_cell(problem.nodeid)}`", problem.url)
            rows.append(f"| {mark} {problem.kind} | {test} | {headline} |")
        tables.append((["| | test | why |", "| --- | --- | --- |"], rows))
    flaky = reruns.flaky(reports)
    if flaky:
        rows = []
        for flaky_run, case in flaky:
            first = case.first_failure
            assert first is not None
            name = f"{title_of(flaky_run.provider)} {flaky_run.run_id}"
            where = _linked(_cell(name), flaky_run.url)
            failure = _cell(f"{first.run_id}: {first_line(first.headline)}")
            rows.append(f"| 🔁 {_cell(case.name)} | {where} | {failure} |")
        head = [
            "### Flaky: failed, then passed on a rerun",
            "",
            "| test | run | first failure |",
            "| --- | --- | --- |",
        ]
        tables.append((head, rows))
    tables += _standing_tables(standings or Standings())
    for head, rows in tables:
        table = _fitted(head, rows, budget, more)
        budget -= _size(table)
        lines += table
    lines += runs
    return "\n".join(lines) + "\n\n"


def _standing_tables(standings: Standings) -> list[tuple[list[str], list[str]]]:
    """The job summary's tables of the failures new and known, the tests fixed and the
    quarantine: each its head and its rows."""
    tables = []
    if standings.remembered and standings.failures:
        rows = [
            f"| {'🆕' if f.known is None else '🔁'} `{_cell(f.nodeid)}` | {_cell(since_words(f))} |"
            for f in standings.failures
        ]
        tables.append((["### Failures: new and known", "", "| test | |", "| --- | --- |"], rows))
    if standings.fixed:
        rows = [f"| ✅ `{_cell(nodeid)}` |" for nodeid in standings.fixed]
        tables.append((["### Fixed since the last session", "", "| test |", "| --- |"], rows))
    quarantine = [
        f"| `{_cell(e.nodeid)}` | {e.outcome.value} | {e.entry.until} | {_cell(e.entry.reason)} |"
        for e in standings.quarantined
    ]
    quarantine += [
        f"| `{_cell(entry.nodeid)}` | {state} | {entry.until} | {_cell(entry.reason)} |"
        for state, entries in (
            ("expired", standings.expired),
            ("matched nothing", standings.unused),
        )
        for entry in entries
    ]
    if quarantine:
        head = [
            "### Quarantined",
            "",
            "| test | verdict | until | reason |",
            "| --- | --- | --- | --- |",
        ]
        tables.append((head, quarantine))
    return tables


def _fitted(head: list[str], rows: list[str], budget: int, more: Callable[[int], str]) -> list[str]:
    """``head``, as many ``rows`` as fit in ``budget`` bytes and a blank line; the rows left
    out counted in ``more(count)``, for which room is kept. Nothing if not even that fits."""
    used = _size([*head, more(len(rows)), ""])
    if used > budget:
        return []
    kept = list(head)
    for index, row in enumerate(rows):
        cost = len(row.encode()) + 1
        if used + cost > budget:
            return [*kept, more(len(rows) - index), ""]
        kept.append(row)
        used += cost
    return [*kept, ""]


def _size(lines: Sequence[str]) -> int:
    """The bytes ``lines`` take, joined by newlines, with a newline after the last."""
    return sum(len(line.encode()) + 1 for line in lines)


def _run_rows(reports: Sequence[RunReport]) -> list[str]:
    lines = ["| run | status | cases |", "| --- | --- | --- |"]
    for report in reports:
        run = _linked(_cell(f"{title_of(report.provider)} {report.run_id}"), report.url)
        if isinstance(report, FinishedRun):
            status = report.status if report.result is None else f"{report.status}, {report.result}"
            cases = report.tally() or "none"
            if report.reruns:
                cases += f" (reruns: {', '.join(rerun.run_id for rerun in report.reruns)})"
            row = (status, cases)
        elif report.start_of is not None:
            row = ("not started", unread(report))
        else:
            row = (report.last_status or "unknown", unread(report))
        lines.append(f"| {run} | " + " | ".join(_cell(cell) for cell in row) + " |")
    return lines


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
