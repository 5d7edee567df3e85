"""What a wait learns and says while it goes on, as typed events on one channel: a
:data:`Listener` hears each, in the wait's thread, the moment it happens.

Two kinds travel on it. What the wait learns of a run (:class:`Progressed`, :class:`Decided`,
:class:`Ended`) is for a front end that reports each case as soon as it has its verdict (the
runs shared with pytest's main thread keep them). What it says (the rest) is worded once, at a
front end's edge (:class:`~pytest_qatech.core.lines.TerminalLines`), so the wait's thread never
writes; in those, ``run`` names the run for people: ``QA.tech run abc123``. A listener takes
what it needs and lets the rest pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pytest_qatech.core.models import RemoteCase, RunReport
from pytest_qatech.core.providers.base import Progress


@dataclass(frozen=True)
class Progressed:
    """A status answer: the run's status, and its cases as listed so far (without the verdicts
    that wait for the run's end, when its failures are to be rerun)."""

    provider: str
    run_id: str
    progress: Progress


@dataclass(frozen=True)
class Decided:
    """Final verdicts, learnt from one answer (one moment): their details, if any were asked
    for, are in them."""

    provider: str
    run_id: str
    cases: tuple[RemoteCase, ...]


@dataclass(frozen=True)
class Ended:
    """A run's outcome: every case of it decided, or why it could not be read."""

    provider: str
    run_id: str
    report: RunReport


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


#: What the wait learns of a run.
Learnt = Progressed | Decided | Ended
Said = (
    Learnt | Waiting | StatusChanged | StillWaiting | RequestFailed | Interrupted | Warned | Noted
)
#: Hears what a wait learns and says, in the thread it happens in.
Listener = Callable[[Said], None]


def silent(said: Said) -> None:
    """Hears nothing: for ``-qq``, and for what no one reads."""


def learning(listener: Listener) -> Listener:
    """``listener``, hearing only what the wait learns of the runs (for one that would keep
    what is said for another thread, where the wait's own thread says it)."""

    def learnt(said: Said) -> None:
        if isinstance(said, Learnt):
            listener(said)

    return learnt


def hearing(*listeners: Listener) -> Listener:
    """One listener that passes each event to each of ``listeners``, in order."""

    def each(said: Said) -> None:
        for listener in listeners:
            listener(said)

    return each
