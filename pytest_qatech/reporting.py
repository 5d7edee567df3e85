"""What the plugin prints: signs of life while waiting, the header line and the run summary."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from pytest_qatech.models import FinishedRun, RunReport
from pytest_qatech.waiting import format_duration

PREFIX = "qatech:"
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def visible(text: str) -> str:
    """Remote text with its control characters spelled out, newlines and tabs kept.

    Every text from a remote service that is printed goes through here: an escape sequence
    must not recolour or rewrite a CI log, and JUnit XML cannot hold most control characters.
    """
    return _UNPRINTABLE.sub(lambda match: ascii(match.group())[1:-1], text)


class TerminalObserver:
    """Writes one plain line per event: readable in a CI log, where no spinner survives."""

    def __init__(self, write_line: Callable[[str], None], title: str) -> None:
        self._write_line = write_line
        self._title = title

    def _write(self, line: str) -> None:
        # Statuses and server messages come from the remote service.
        self._write_line(visible(line))

    def status_changed(self, run_id: str, status: str, elapsed: float) -> None:
        self._write(f"{PREFIX} {self._title} run {run_id} is {status} ({format_duration(elapsed)})")

    def still_waiting(self, run_id: str, status: str, elapsed: float) -> None:
        self._write(
            f"{PREFIX} still waiting for {self._title} run {run_id}: {status} after "
            f"{format_duration(elapsed)}"
        )

    def request_failed(self, run_id: str, message: str, retry_in: float) -> None:
        self._write(f"{PREFIX} {message}; trying again in {format_duration(retry_in)}")

    def interrupted(self, run_id: str, status: str | None, elapsed: float) -> None:
        self._write(
            f"{PREFIX} interrupted while waiting for {self._title} run {run_id} "
            f"({status or 'no status yet'}, {format_duration(elapsed)})"
        )


class SilentObserver:
    def status_changed(self, run_id: str, status: str, elapsed: float) -> None:
        pass

    def still_waiting(self, run_id: str, status: str, elapsed: float) -> None:
        pass

    def request_failed(self, run_id: str, message: str, retry_in: float) -> None:
        pass

    def interrupted(self, run_id: str, status: str | None, elapsed: float) -> None:
        pass


def header_line(title: str, run_ids: Iterable[str], api_url: str) -> str:
    return f"{PREFIX} {title} runs {', '.join(run_ids)} from {api_url}"


def summary_lines(title: str, reports: Iterable[RunReport]) -> list[str]:
    lines = []
    for report in reports:
        if isinstance(report, FinishedRun):
            line = f"{title} run {report.run_id}: {_finished(report)}"
        else:
            line = (
                f"{title} run {report.run_id}: could not be read "
                f"(last status {report.last_status or 'unknown'}); see the error above"
            )
        lines.append(visible(f"{line} - {report.url}" if report.url else line))
    return lines


def _finished(run: FinishedRun) -> str:
    return f"{run.status}, result {run.result} - {run.tally() or 'no cases'}"
