"""Quarantine kept in the repository: remote cases whose failures a team has decided, until a
date, not to let fail the build.

The ini key ``qatech_quarantine`` holds one entry a line, as pytest's ``filterwarnings`` holds
its rules::

    qatech_quarantine =
        qatech::Checkout with saved card until 2027-01-15: flaky payment sandbox, see #123

An entry names a remote case by its node id (as ``--collect-only -q`` prints it), the last day
it applies, and why. A case it names still runs and is reported; a failure or an error of it is
reported as skipped, with the entry's date and reason beside the verdict, and a pass stays a
pass. An entry past its date no longer applies; one that cannot be read is a usage error, before
any request.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pytest_qatech.core.lookup import SettingsError
from pytest_qatech.core.options import QUARANTINE

#: ``NODE_ID until YYYY-MM-DD: reason``. A case's name may hold " until " and ": " too, so the
#: node id ends at the first " until " followed by a date and a colon; failing that, at the
#: first followed by a word and a colon, to say what is not a date.
_ENTRY = re.compile(r"(?P<nodeid>\S.*?)\s+until\s+(?P<until>\d{4}-\d{2}-\d{2}):(?P<reason>.*)")
_ANY_ENTRY = re.compile(r"(?P<nodeid>\S.*?)\s+until\s+(?P<until>[^\s:]+):(?P<reason>.*)")


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    nodeid: str
    #: The last day the entry applies.
    until: datetime.date
    reason: str

    @property
    def platform(self) -> str:
        return self.nodeid.split("::", 1)[0]


@dataclass(frozen=True, slots=True)
class Quarantine:
    """The entries of a session: those that apply today, and those past their date."""

    entries: tuple[QuarantineEntry, ...] = ()
    expired: tuple[QuarantineEntry, ...] = ()

    @classmethod
    def parse(cls, lines: Iterable[str], today: datetime.date) -> Quarantine:
        """The entries of these ini lines (blank lines and ``#`` comments left out), or a
        :class:`~pytest_qatech.core.lookup.SettingsError` naming the first line that is not
        one."""
        entries = [_entry(line.strip()) for line in lines if line.strip()[:1] not in ("", "#")]
        return cls(
            tuple(entry for entry in entries if entry.until >= today),
            tuple(entry for entry in entries if entry.until < today),
        )

    def entry_for(self, nodeid: str) -> QuarantineEntry | None:
        """The entry that applies to the item ``nodeid``, if one does (the first, if several)."""
        return next((entry for entry in self.entries if entry.nodeid == nodeid), None)


def _entry(line: str) -> QuarantineEntry:
    form = f"expected NODE_ID until YYYY-MM-DD: reason (for example {_EXAMPLE})"
    found = _ENTRY.fullmatch(line) or _ANY_ENTRY.fullmatch(line)
    if found is None:
        raise SettingsError(f"{QUARANTINE.name}: {line!r} is not an entry: {form}")
    until, reason = found["until"], found["reason"].strip()
    day = _date(until) if found.re is _ENTRY else None
    if day is None:
        raise SettingsError(
            f"{QUARANTINE.name}: {line!r}: {until!r} is not a date as YYYY-MM-DD: {form}"
        )
    if not reason:
        raise SettingsError(f"{QUARANTINE.name}: {line!r} gives no reason: {form}")
    return QuarantineEntry(found["nodeid"].strip(), day, reason)


def _date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


_EXAMPLE = "'qatech::Checkout with saved card until 2027-01-15: flaky payment sandbox, see #123'"
