"""What the plugin prints: signs of life while waiting, the header line and the run summary."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

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

    def __init__(self, write_line: Callable[[str], None]) -> None:
        self._write_line = write_line

    def _write(self, line: str) -> None:
        # Statuses and server messages come from the remote service.
        self._write_line(visible(line))

    def status_changed(self, run: str, status: str, elapsed: float) -> None:
        self._write(f"{PREFIX} {run} is {status} ({format_duration(elapsed)})")

    def still_waiting(self, run: str, status: str, elapsed: float) -> None:
        self._write(f"{PREFIX} still waiting for {run}: {status} after {format_duration(elapsed)}")

    def request_failed(self, run: str, message: str, retry_in: float) -> None:
        self._write(f"{PREFIX} {message}; trying again in {format_duration(retry_in)}")

    def interrupted(self, run: str, status: str | None, elapsed: float) -> None:
        self._write(
            f"{PREFIX} interrupted while waiting for {run} "
            f"({status or 'no status yet'}, {format_duration(elapsed)})"
        )

    def details_missing(self, run: str, message: str) -> None:
        self._write(f"{PREFIX} warning: {run}: {message}")


class SilentObserver:
    def status_changed(self, run: str, status: str, elapsed: float) -> None:
        pass

    def still_waiting(self, run: str, status: str, elapsed: float) -> None:
        pass

    def request_failed(self, run: str, message: str, retry_in: float) -> None:
        pass

    def interrupted(self, run: str, status: str | None, elapsed: float) -> None:
        pass

    def details_missing(self, run: str, message: str) -> None:
        pass


def header_line(title: str, run_ids: Iterable[str], api_url: str) -> str:
    return f"{PREFIX} {title} runs {', '.join(run_ids)} from {api_url}"


def summary_lines(titles: Mapping[str, str], reports: Iterable[RunReport]) -> list[str]:
    """A line per run; ``titles`` maps provider names to how people write them."""
    lines = []
    for report in reports:
        run = f"{titles[report.provider]} run {report.run_id}"
        if isinstance(report, FinishedRun):
            line = f"{run}: {_finished(report)}"
        else:
            line = (
                f"{run}: could not be read "
                f"(last status {report.last_status or 'unknown'}); see the error above"
            )
        lines.append(visible(f"{line} - {report.url}" if report.url else line))
    return lines


def _finished(run: FinishedRun) -> str:
    # Only QA.tech has a result beside the status; for the others the status is the verdict.
    result = f", result {run.result}" if run.result is not None else ""
    return f"{run.status}{result} - {run.tally() or 'no cases'}"
