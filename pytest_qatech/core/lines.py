"""What is printed while remote runs are waited for: the header line, and signs of life as plain
lines in a CI log or as a live line on a terminal. Both front ends print these."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from pytest_qatech.core.events import (
    Interrupted,
    Noted,
    RequestFailed,
    RunStanding,
    Said,
    StatusChanged,
    StillWaiting,
    Waiting,
    Warned,
)
from pytest_qatech.core.text import format_duration, visible

#: What the plugin's own lines start with; qatech-junit's start with its name.
PREFIX = "qatech:"
#: Seconds between redraws of the live line on a terminal.
LIVE_INTERVAL = 1.0


class LiveLine:
    """The last line of a terminal, redrawn in place; lines that stay are written over it.

    Only for a terminal: a CI log keeps every carriage return's text, so there it is not used.
    """

    def __init__(self, write: Callable[[str], None], width: int) -> None:
        self._write = write
        self._width = max(20, width - 1)
        self._shown = 0

    @property
    def shown(self) -> bool:
        return self._shown > 0

    def show(self, text: str) -> None:
        if len(text) > self._width:
            text = text[: self._width - 3] + "..."
        # Padded to the previous text's length: a shorter line must not leave its tail.
        self._write("\r" + text.ljust(self._shown))
        self._shown = len(text)

    def replace(self, line: str) -> None:
        """Write ``line`` where the live line is, to stay; the live line is redrawn below."""
        self._write("\r" + line.ljust(self._shown) + "\n")
        self._shown = 0

    def clear(self) -> None:
        if self._shown:
            self._write("\r" + " " * self._shown + "\r")
            self._shown = 0


class TerminalLines:
    """Says what a wait says as one plain line per event: readable in a CI log, where no spinner
    survives.

    With a :class:`LiveLine` (a terminal), it also keeps a line with each run's status and the
    time waited up to date (:class:`~pytest_qatech.core.events.Waiting`, every
    :attr:`live_interval` seconds), instead of a line a minute.
    """

    def __init__(
        self,
        write_line: Callable[[str], None],
        live: LiveLine | None = None,
        prefix: str = PREFIX,
    ) -> None:
        self._write_line = write_line
        self._live = live
        self._prefix = prefix
        self.live_interval = LIVE_INTERVAL if live is not None else None

    def __call__(self, said: Said) -> None:
        prefix = self._prefix
        match said:
            case Waiting(elapsed, runs):
                self._redraw(elapsed, runs)
            case StatusChanged(run, status, elapsed):
                self._write(f"{prefix} {run} is {status} ({format_duration(elapsed)})")
            case StillWaiting(run, status, elapsed):
                if self._live is None:  # the live line says it already
                    duration = format_duration(elapsed)
                    self._write(f"{prefix} still waiting for {run}: {status} after {duration}")
            case RequestFailed(_, message, retry_in):
                self._write(f"{prefix} {message}; trying again in {format_duration(retry_in)}")
            case Interrupted(run, status, elapsed):
                self._write(
                    f"{prefix} interrupted while waiting for {run} "
                    f"({status or 'no status yet'}, {format_duration(elapsed)})"
                )
            case Warned(run, message):
                self._write(f"{prefix} warning: {run}: {message}")
            case Noted(run, message):
                self._write(f"{prefix} {run}: {message}")

    def _write(self, line: str) -> None:
        # Statuses and server messages come from the remote service.
        if self._live is not None and self._live.shown:
            self._live.replace(visible(line))
        else:
            self._write_line(visible(line))

    def _redraw(self, elapsed: float, runs: Sequence[RunStanding]) -> None:
        if self._live is None:
            return
        if not runs:
            self._live.clear()
            return
        states = "; ".join(
            f"{run.run} {run.status or 'no status yet'}" + (f" ({run.cases})" if run.cases else "")
            for run in runs
        )
        self._live.show(visible(f"{self._prefix} waiting {format_duration(elapsed)}: {states}"))


def header_line(title: str, run_ids: Iterable[str], api_url: str, prefix: str = PREFIX) -> str:
    return f"{prefix} {title} runs {', '.join(run_ids)} from {api_url}"
