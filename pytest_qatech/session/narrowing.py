"""pytest's selection decides what a run started from a test plan tests.

Before a plan's run starts, the plan's cases as the last session that ran it saw them (kept in
pytest's cache, :mod:`~pytest_qatech.core.plan_cases`) are laid out as the very items a run of
the plan gives, and the session's own selection chooses among them: node ids as arguments,
``-k``, ``-m`` (with the markers the project's hooks add), ``--deselect``, ``--lf`` and the
project's ``pytest_collection_modifyitems``. The start then names only the cases left. Once the
run has ended, what it taught of the plan's cases goes back into the cache.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from pytest_qatech.core.codec import from_data, to_data
from pytest_qatech.core.lines import PREFIX
from pytest_qatech.core.models import FinishedRun
from pytest_qatech.core.options import QATECH, QATECH_PLAN, WHOLE_PLAN
from pytest_qatech.core.plan_cases import (
    CACHE_KEY,
    Choice,
    PlanCases,
    Selection,
    learnt,
    stand_in,
)
from pytest_qatech.core.platforms import Settings
from pytest_qatech.core.providers.qatech_start import DEFAULT_PLAN
from pytest_qatech.core.text import counted, first_line, visible
from pytest_qatech.session.collection import (
    RemoteSelection,
    deselections_unreported,
    selected_cases,
)
from pytest_qatech.session.items import RemoteCaseItem, RunCollector
from pytest_qatech.session.live import LIVE_RUNS


class PlanNarrowing:
    """In the process that talks to the APIs (the xdist controller too, before its workers
    start), for a session that starts runs of test plans. With ``--qatech-whole-plan`` it only
    keeps a plan the selection takes none of from being started."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        assert settings.start is not None
        self._config = config
        self._settings = settings
        self._spec = settings.start
        #: Why the project's test cases could not stand in for a plan's unknown cases, by plan.
        self._unread: dict[str, str] = {}
        #: The plans narrowed, with what pytest selected of each.
        self.selections: dict[str, Selection] = {}

    def __repr__(self) -> str:
        return f"PlanNarrowing({sorted(self.selections)})"

    @property
    def why(self) -> list[str]:
        """The options that narrow a session's selection, as people typed them."""
        option = self._config.option
        given = [
            ("--lf", getattr(option, "lf", False)),
            ("-k", option.keyword),
            ("-m", option.markexpr),
            ("--deselect", option.deselect),
            ("node ids", self._config.pluginmanager.get_plugin("qatech-selection") is not None),
        ]
        return [flag for flag, value in given if value]

    def select(self, session: pytest.Session) -> Mapping[str, Selection]:
        """What the session's selection leaves of each plan's known cases."""
        load_conftests_as_collection_will(self._config)  # once: their hooks choose among copies
        for plan in self._spec.plans:
            known = self.known(plan) if plan is not None else None
            if plan is not None and known is not None:
                selection = self._selected(session, known)
                if not self._spec.narrow and selection.places:
                    # --qatech-whole-plan: every case of a plan the selection takes any of.
                    selection = dataclasses.replace(
                        selection, places=tuple(range(len(known.cases)))
                    )
                self.selections[plan] = selection
            elif plan is not None and self.why and not self._config.option.collectonly:
                self._stand_in(session, plan)
        return self.selections

    def _stand_in(self, session: pytest.Session, plan: str) -> None:
        """A plan whose cases no session here has seen, under a selection: the project's test
        cases stand in for them. If the selection takes none (or a node id names none), no
        run of the plan is started; else its whole plan is, as a run of it may hold them."""
        from pytest_qatech.core.starting import project_test_cases

        say = self._config.stash[LIVE_RUNS].say  # as the start's own lines are said
        listed, problem = project_test_cases(self._settings, say=say)
        if problem is not None:
            self._unread[plan] = problem
            return
        chosen = self._selected(session, stand_in(plan, listed))
        if chosen.unknown or not chosen.places:
            self.selections[plan] = dataclasses.replace(chosen, stand_in=True)

    def known(self, plan: str) -> PlanCases | None:
        cache = getattr(self._config, "cache", None)
        data = cache.get(CACHE_KEY + plan, None) if cache is not None else None
        if data is None:
            return None
        try:
            return from_data(PlanCases, data)
        except (TypeError, KeyError, ValueError, AttributeError):
            return None  # written by another version: as if no session had run the plan

    def _selected(self, session: pytest.Session, known: PlanCases) -> Selection:
        config = session.config
        copies: list[Any] = [
            item
            for collector in RunCollector.laid_out(session, [known.snapshot()])
            for item in collector.collect()
            if isinstance(item, RemoteCaseItem)
        ]
        laid_out = [item.nodeid for item in copies]
        with deselections_unreported(config):
            config.hook.pytest_collection_modifyitems(session=session, config=config, items=copies)
        unknown = _unknown_names(config, known.plan, laid_out)
        if unknown:
            # A case added to the plan since, or a typo: the start looks the names up.
            return Selection(known, tuple(range(len(known.cases))), unknown)
        if _failed_elsewhere(config, [item.nodeid for item in copies]):
            return Selection(known, ())
        chosen = selected_cases(copies).get((QATECH.name, known.plan), frozenset())
        return Selection(known, tuple(sorted(_place(key) for key in chosen)))

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Forget the cases a refused start showed to be gone from the project (after
        :class:`~.live.LiveRuns` started the runs)."""
        cache = getattr(self._config, "cache", None)
        for choice in self._config.stash[LIVE_RUNS].choices:
            known = self.known(choice.plan) if choice.gone else None
            if known is not None and cache is not None:
                kept = tuple(case for case in known.cases if case.name not in choice.gone)
                cache.set(CACHE_KEY + choice.plan, to_data(dataclasses.replace(known, cases=kept)))

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        live = config.stash[LIVE_RUNS]
        would = config.option.collectonly
        lines = []
        if live.lookup_problem:
            lines.append(
                f"{PREFIX} warning: the project's test cases could not be read, so cases "
                f"without a known id could not be named: {live.lookup_problem}"
            )
        why = ", ".join(self.why) or "the session's collection hooks"
        for choice in live.choices:
            selection = self.selections[choice.plan]
            if selection.stand_in:
                lines.append(
                    f"{PREFIX} test plan {choice.plan}: its cases are not known "
                    f"({self._unknown(choice.plan)}), and {why} selected none of the project's "
                    f"{len(selection.known.cases)} test cases: no run is started"
                )
                continue
            lines.append(_choice_line(choice, selection, why, would))
        start = "would be started" if would else "is started"
        for plan in self._spec.plans if self.why else ():
            if plan is None:
                lines.append(
                    f"{PREFIX} {DEFAULT_PLAN}: {why} cannot narrow it (which plan it is, and "
                    f"so its cases, are known only once it starts): the whole plan {start}; "
                    f"give {QATECH_PLAN.flag} to narrow a plan"
                )
            elif plan not in self.selections:
                unread = self._unread.get(plan)
                lines.append(
                    f"{PREFIX} test plan {plan}: its cases are not known ({self._unknown(plan)})"
                    + (
                        f" and the project's test cases could not be read ({first_line(unread)})"
                        if unread
                        else ""
                    )
                    + f", so {why} cannot narrow it: its whole plan {start}"
                )
        # Server text (a refusal, a failed read) among them: shown, never obeyed.
        return [visible(line) for line in lines]

    def _unknown(self, plan: str) -> str:
        """Why a plan's cases are not known."""
        cache = getattr(self._config, "cache", None)
        if cache is None:
            return "pytest's cache is off, as with -p no:cacheprovider"
        if cache.get(CACHE_KEY + plan, None) is None:
            return "no session here has run it"
        return "what pytest's cache holds of them could not be read: another version wrote it"

    def pytest_qatech_run_finished(self, config: pytest.Config, run: object) -> None:
        """Keep what a run of a plan taught of its cases, for the next session to select."""
        if not isinstance(run, FinishedRun):
            return
        live = config.stash.get(LIVE_RUNS, None)
        plan = live.settings.qatech().label(run.run_id) if live is not None else None
        cache = getattr(config, "cache", None)
        if plan is None or plan not in self._spec.plans or cache is None:
            return
        selection = self.selections.get(plan)
        whole = selection is None or selection.everything
        seen = datetime.now(timezone.utc).isoformat(timespec="seconds")
        cases = learnt(plan, self.known(plan), run, whole=whole, seen=seen)
        cache.set(CACHE_KEY + plan, to_data(cases))


def _choice_line(choice: Choice, selection: Selection, why: str, would: bool) -> str:
    """What was started of a plan, and why, in a line of the header."""
    known = selection.known
    plan = f"{PREFIX} test plan {choice.plan}"
    whose = f"(its cases as {QATECH.title} run {known.run_id} listed them, {known.seen})"
    if choice.refused is not None:
        line = (
            f"{plan}: warning: {QATECH.title} refused the start of the "
            f"{counted(choice.selected, 'case')} {why} selected ({first_line(choice.refused)})"
        )
        if choice.recheck is not None:
            line += (
                f"; the project's test cases could not be read again: {first_line(choice.recheck)}"
            )
        if choice.gone:
            names = ", ".join(repr(name) for name in choice.gone)
            line += f"; gone from the project's test cases, so forgotten: {names}"
        if choice.case_ids:
            return (
                line + f"; {'would start' if would else 'starting'} the {len(choice.case_ids)} left"
            )
        return line + (
            "; no run is started: a run of the whole plan might report none of them "
            f"({WHOLE_PLAN.flag} starts it all the same)"
        )
    if choice.case_ids is None and choice.unmapped:
        names = ", ".join(repr(name) for name in choice.unmapped)
        return (
            f"{plan}: warning: no id is known for {len(choice.unmapped)} of the "
            f"{choice.selected} cases {why} selected ({names}), so its whole plan is started "
            "rather than leave them out"
        )
    start = "would start" if would else "starting"
    if choice.case_ids is None and selection.unknown:
        names = ", ".join(repr(name) for name in selection.unknown)
        return (
            f"{plan}: {start} all its cases: node ids name cases its {choice.known} known cases "
            f"{whose} lack ({names}), which may have joined it since"
        )
    if choice.case_ids is None:
        return f"{plan}: {start} all its {choice.known} cases {whose}"
    if not choice.case_ids:
        nothing = "no run would be started" if would else "no run is started"
        return f"{plan}: {why} selected none of its {choice.known} cases {whose}: {nothing}"
    chosen = known.names(selection.places)
    shown = ", ".join(chosen[:5]) + (f" and {len(chosen) - 5} more" if len(chosen) > 5 else "")
    return (
        f"{plan}: {start} {choice.selected} of its {choice.known} cases, as {why} selected "
        f"them {whose}: {shown}"
    )


def load_conftests_as_collection_will(config: pytest.Config) -> None:
    """Load now the ``conftest.py`` files that collection loads on its way to each argument (each
    directory from the ``confcutdir`` down to the argument), as its directory collectors do.

    Before the session starts, pytest has loaded only the arguments' own conftests and their
    ``test*`` folders': under ``pytest tests`` the root's, which the remote items see (their
    collectors stand for the rootdir), is loaded only once collection walks down to ``tests``.
    Whatever collection will not load (a rootdir outside the arguments' paths, ``-p
    no:...``, ``--noconftest``) stays unloaded, so the copies see what the real items will.
    A conftest below the arguments' directories comes only when collection reaches it: its
    ``pytest_collection_modifyitems`` cannot narrow a start."""
    manager = config.pluginmanager
    options: dict[str, bool] = {}
    # pytest 8.1 added the keyword (required from then on); 8.0 has no such setting.
    if "consider_namespace_packages" in inspect.signature(manager._loadconftestmodules).parameters:
        options["consider_namespace_packages"] = bool(config.getini("consider_namespace_packages"))
    here = config.invocation_params.dir
    for arg in config.args:
        path = here / arg.split("::", 1)[0]
        if not path.exists():
            continue  # --pyargs, or a node id pytest reports as not found
        directory = path if path.is_dir() else path.parent
        for place in reversed((directory, *directory.parents)):
            if manager._is_in_confcutdir(place):
                manager._loadconftestmodules(
                    place, config.getoption("importmode"), config.rootpath, **options
                )


def _unknown_names(config: pytest.Config, plan: str, nodeids: list[str]) -> tuple[str, ...]:
    """The case names that remote node ids given as arguments ask for under the plan and that
    none of its known cases has (``qatech::<plan>::<name>``)."""
    selection = config.pluginmanager.get_plugin("qatech-selection")
    if not isinstance(selection, RemoteSelection):
        return ()
    under = f"{QATECH.name}::{plan}::"
    return tuple(
        wanted.removeprefix(under)
        for wanted in selection.wanted
        if wanted.startswith(under)
        and not any(selection.names(wanted, nodeid) for nodeid in nodeids)
    )


def _place(key: str) -> int:
    """A known case's place in its plan, from its key in the copies laid out (``#<place>``)."""
    return int(key[1:])


def _failed_elsewhere(config: pytest.Config, nodeids: list[str]) -> bool:
    """With ``--lf``: whether tests outside the plan failed last time and none of its cases did.
    The session's ``--lf`` then keeps only those tests, so none of the plan's would be
    reported; ``--lf`` among the plan's cases alone would keep them all."""
    if not getattr(config.option, "lf", False):
        return False
    cache = getattr(config, "cache", None)
    failed = cache.get("cache/lastfailed", {}) if cache is not None else {}
    if not isinstance(failed, dict) or any(nodeid in failed for nodeid in nodeids):
        return False
    root = Path(config.rootpath)
    return any((root / str(nodeid).split("::")[0]).exists() for nodeid in failed)
