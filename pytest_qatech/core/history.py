"""New failures told from known ones: each remote test's recent verdicts, as pytest's cache
keeps them from one session to the next (as GitLab's merge request widget tells newly failed,
existing and resolved failures).

A failure is *new* when the test passed, or was not seen, the last time it was reported; else it
is *known*: failing since the day of the first failing session of its streak, for as many
sessions in a row as reported it. A test that failed last time and passes now is *fixed*. A
session that does not report a test (deselected, skipped) leaves its record as it was.

The record is plain JSON in a file the user owns: it is read as hostile (anything not as written
here is forgotten, never a crash), and bounded (the tests reported most recently are kept).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Where pytest's cache keeps the record (``.pytest_cache/v/qatech/verdicts``).
CACHE_KEY = "qatech/verdicts"
#: The most tests the record keeps: those reported most recently.
MOST_TESTS = 5000
_VERSION = 1


@dataclass(frozen=True, slots=True)
class Standing:
    """A test as the record keeps it: whether its last verdict failed, and, if so, since when
    (the day of the first session of the streak) and for how many sessions in a row."""

    failing: bool
    since: datetime.date
    sessions: int


@dataclass(frozen=True, slots=True)
class Known:
    """A failure seen before: failing since ``since``, for ``sessions`` sessions in a row,
    this one included."""

    since: datetime.date
    sessions: int


def read(data: object) -> dict[str, Standing]:
    """The record as pytest's cache returns it, with what cannot be read left out."""
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return {}
    tests = data.get("tests")
    if not isinstance(tests, dict):
        return {}
    record = {}
    for nodeid, fields in tests.items():
        standing = _standing(fields)
        if isinstance(nodeid, str) and standing is not None:
            record[nodeid] = standing
    return record


def _standing(fields: object) -> Standing | None:
    if not (isinstance(fields, list) and len(fields) == 3):
        return None
    failing, since, sessions = fields
    if not (isinstance(failing, bool) and isinstance(since, str)):
        return None
    if not (isinstance(sessions, int) and not isinstance(sessions, bool) and sessions > 0):
        return None
    try:
        return Standing(failing, datetime.date.fromisoformat(since), sessions)
    except ValueError:
        return None


def written(record: Mapping[str, Standing]) -> dict[str, object]:
    """The record as pytest's cache stores it (JSON)."""
    tests = {
        nodeid: [standing.failing, standing.since.isoformat(), standing.sessions]
        for nodeid, standing in record.items()
    }
    return {"version": _VERSION, "tests": tests}


def known(before: Standing | None) -> Known | None:
    """What a failure now is, given the test's record before this session: None if new."""
    if before is None or not before.failing:
        return None
    return Known(before.since, before.sessions + 1)


def updated(
    record: Mapping[str, Standing],
    verdicts: Iterable[tuple[str, bool]],
    today: datetime.date,
    most: int = MOST_TESTS,
) -> dict[str, Standing]:
    """The record after a session that reported these tests, ``(node id, failed)`` each: the
    tests reported now last, and the oldest left out beyond ``most`` (1 or more)."""
    now = dict(record)
    for nodeid, failed in verdicts:
        before = now.pop(nodeid, None)
        streak = known(before) if failed else None
        if streak is not None:
            now[nodeid] = Standing(True, streak.since, streak.sessions)
        else:
            now[nodeid] = Standing(failed, today, 1)
    return dict(list(now.items())[-most:])


def fixed(record: Mapping[str, Standing], verdicts: Iterable[tuple[str, bool]]) -> list[str]:
    """The tests that failed last time and pass now, in the order reported."""
    return [
        nodeid
        for nodeid, failed in verdicts
        if not failed and nodeid in record and record[nodeid].failing
    ]
