"""What a wait says while it goes on, as facts: each is rendered once, at a front end's edge
(:class:`~pytest_qatech.core.lines.TerminalLines`), so the wait's thread never writes.

``run`` names the run for people, in every event: ``QA.tech run abc123``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RunStanding:
    """Where one run stands, for a live line on a terminal."""

    run: str
    #: The last status the API gave; None before the first answer.
    status: str | None
    #: How many cases had each outcome, once the run's results are read.
    cases: str = ""


@dataclass(frozen=True)
class Waiting:
    """Every run's progress, to redraw a live line; no runs: the wait is over."""

    elapsed: float
    runs: tuple[RunStanding, ...]


@dataclass(frozen=True)
class StatusChanged:
    run: str
    status: str
    elapsed: float


@dataclass(frozen=True)
class StillWaiting:
    """A sign of life in a CI log, where nothing else was said for a while."""

    run: str
    status: str
    elapsed: float


@dataclass(frozen=True)
class RequestFailed:
    run: str
    message: str
    retry_in: float


@dataclass(frozen=True)
class Interrupted:
    """Ctrl-C came while the run was still going."""

    run: str
    status: str | None
    elapsed: float


@dataclass(frozen=True)
class Warned:
    """Something went wrong that changes no verdict (a case's details are missing)."""

    run: str
    message: str


@dataclass(frozen=True)
class Noted:
    """Something worth a line in the log that is no problem (a rerun started)."""

    run: str
    message: str


Said = Waiting | StatusChanged | StillWaiting | RequestFailed | Interrupted | Warned | Noted
#: Hears what a wait says, in the thread it is said in.
Listener = Callable[[Said], None]


def silent(said: Said) -> None:
    """Hears nothing: for ``-qq``, and for what no one reads."""
