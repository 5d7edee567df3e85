"""Where each remote verdict stands: quarantined (``qatech_quarantine``), a new or a known
failure, fixed since the last session (pytest's cache). Registered in the process that reports,
where remote items run (the only one, or the xdist controller)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

import pytest

from pytest_qatech.core import history
from pytest_qatech.core.models import Outcome
from pytest_qatech.core.quarantine import Quarantine
from pytest_qatech.core.rendering import failure_properties, render_problem
from pytest_qatech.core.standing import Excused, Failure, Standings, excuse
from pytest_qatech.session.items import RemoteCaseItem, RemoteItem, RunProblemItem


class CaseStanding:
    def __init__(
        self,
        config: pytest.Config,
        quarantine: Quarantine,
        platforms: Iterable[str],
        today: datetime.date,
    ) -> None:
        self._quarantine = quarantine
        self._platforms = frozenset(platforms)
        self._today = today
        # Without pytest's cache (-p no:cacheprovider) nothing is remembered, nor called new.
        self._cache: pytest.Cache | None = getattr(config, "cache", None)
        before = self._cache.get(history.CACHE_KEY, None) if self._cache is not None else None
        self._before = history.read(before)
        #: Each remote test reported, by node id: whether it failed (quarantined or not).
        self._verdicts: dict[str, bool] = {}
        self._failures: list[Failure] = []
        self._excused: list[Excused] = []
        #: The node ids of the remote items this process laid out, selected or not.
        self._seen: set[str] = set()

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        # Before any selection: collection's items, xdist's copies and those laid out late all
        # come through here.
        self._seen.update(item.nodeid for item in items if isinstance(item, RemoteItem))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Once the item knows its verdict (it learns it as it starts): mark a failure new or
        known, and report a quarantined one as skipped."""
        verdict = _verdict(item)
        if verdict is None:
            return
        outcome, headline = verdict
        nodeid, failed = item.nodeid, outcome.fails
        self._verdicts[nodeid] = failed
        entry = self._quarantine.entry_for(nodeid)
        if entry is not None:
            self._excused.append(Excused(nodeid, outcome, headline, entry))
            if failed:
                pytest.skip(excuse(entry, outcome, headline))
        elif failed:
            failure = Failure(nodeid, headline, history.known(self._before.get(nodeid)))
            self._failures.append(failure)
            if self._cache is not None:
                item.user_properties.extend(failure_properties(failure))

    def standings(self) -> Standings:
        # Those of a platform the session waited for; none if it laid out nothing (every item
        # that reports was laid out first).
        unused = [
            entry
            for entry in self._quarantine.entries
            if entry.platform in self._platforms and entry.nodeid not in self._seen
        ]
        return Standings(
            failures=tuple(self._failures),
            fixed=tuple(history.fixed(self._before, self._verdicts.items())),
            quarantined=tuple(self._excused),
            expired=self._quarantine.expired,
            unused=tuple(unused) if self._seen else (),
            remembered=self._cache is not None,
        )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._cache is not None and self._verdicts:
            record = history.updated(self._before, self._verdicts.items(), self._today)
            self._cache.set(history.CACHE_KEY, history.written(record))


def _verdict(item: pytest.Item) -> tuple[Outcome, str] | None:
    """A remote item's verdict and its headline, once it has one; None for what has no verdict
    to stand by (a local test, a remote skip)."""
    if isinstance(item, RunProblemItem):
        return Outcome.ERROR, render_problem(item.report).headline
    if not isinstance(item, RemoteCaseItem) or item.case is None:
        return None
    if item.case.outcome is Outcome.SKIPPED:
        return None
    return item.case.outcome, item.case.headline
