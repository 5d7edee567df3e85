"""Where a session's remote verdicts stand against what the repository and the earlier sessions
say: the failures new and known (:mod:`~pytest_qatech.core.history`), the tests fixed since, and
the quarantined ones (:mod:`~pytest_qatech.core.quarantine`). Facts only: the terminal and the
GitHub job summary render them."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_qatech.core.history import Known
from pytest_qatech.core.models import Outcome
from pytest_qatech.core.quarantine import QuarantineEntry


@dataclass(frozen=True, slots=True)
class Failure:
    """A remote test that failed the session (or had no verdict): ``known`` says since when it
    has been failing, None for a new failure."""

    nodeid: str
    headline: str
    known: Known | None


@dataclass(frozen=True, slots=True)
class Excused:
    """A quarantined test and its verdict: a failure or an error of it was reported as skipped."""

    nodeid: str
    outcome: Outcome
    headline: str
    entry: QuarantineEntry


@dataclass(frozen=True, slots=True)
class Standings:
    failures: tuple[Failure, ...] = ()
    #: The tests that failed last time and pass now.
    fixed: tuple[str, ...] = ()
    quarantined: tuple[Excused, ...] = ()
    #: The quarantine entries past their date, and those that matched no test of the session.
    expired: tuple[QuarantineEntry, ...] = ()
    unused: tuple[QuarantineEntry, ...] = ()
    #: Whether earlier sessions' verdicts were at hand (pytest's cache): without, no failure is
    #: called new.
    remembered: bool = True


def excuse(entry: QuarantineEntry, outcome: Outcome, headline: str) -> str:
    """Why a quarantined test's failure is reported as skipped: the skip's reason."""
    return f"quarantined until {entry.until}: {entry.reason} ({outcome.value}: {headline})"
