"""Where remote items come from and when they run: collected beside the session's own from the
runs' first snapshot, moved after the local tests, and, for what collection could not know, laid
out and run after the main test loop."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeGuard

import pytest

from pytest_qatech.core.events import Noted
from pytest_qatech.core.models import RunSnapshot, SkippedSource
from pytest_qatech.core.naming import Entry
from pytest_qatech.core.options import run_label, title_of
from pytest_qatech.core.text import counted
from pytest_qatech.core.waiting import Chosen
from pytest_qatech.session.items import (
    RemoteCaseItem,
    RemoteItem,
    RunCollector,
    RunProblemItem,
    SkippedSourceItem,
)
from pytest_qatech.session.live import LiveRuns

#: A run as the session's items name it: its provider's name and its id.
RunKey = tuple[str, str]


def selected_cases(items: Iterable[pytest.Item]) -> dict[RunKey, frozenset[str]]:
    """Which cases of each run ``items`` (what a selection left) hold, by their keys: the one
    answer to what the session selected of a run, which the runs let go, the reruns and each
    run's own ``(run)`` item follow."""
    chosen: dict[RunKey, set[str]] = {}
    for item in items:
        if isinstance(item, RemoteCaseItem):
            chosen.setdefault(item.run_key, set()).add(item.listed.key)
    return {run: frozenset(keys) for run, keys in chosen.items()}


class Workers(Protocol):
    """xdist's workers, as their controller knows them (:class:`~.xdist.ControllerHandoff`)."""

    @property
    def run_tests(self) -> bool:
        """Whether they run this session's tests: they select the remote items too, and say
        which only once they are done."""
        ...

    def selected(self, session: pytest.Session, runs: Sequence[RunSnapshot]) -> list[pytest.Item]:
        """This process's copies of the remote items of ``runs`` that they selected, in their
        order."""
        ...


class CollectionFailure(Exception):
    """Why this process cannot lay out the remote runs: the session's collection fails, with
    this message."""


class RemoteCollection:
    """Adds a collector per remote run, or per group of runs, to what the session collects,
    from ``first()``: the runs' first snapshot."""

    def __init__(
        self,
        first: Callable[[], Sequence[RunSnapshot]],
        skipped: Callable[[], Sequence[SkippedSource]],
    ) -> None:
        self._first = first
        #: The platforms whose runs were skipped, each one skipped item.
        self._skipped = skipped

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        if isinstance(collector, pytest.Session) and report.passed:
            try:
                runs, skipped = self._first(), self._skipped()
            except CollectionFailure as failure:
                report.outcome = "failed"
                report.longrepr = str(failure)
                return report
            report.result.extend(RunCollector.laid_out(collector, runs))
            report.result.extend(SkippedSourceItem.laid_out(collector, skipped))
        return report

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> Generator[None, None, None]:
        """A run's own verdict (its ``(run)`` item: the run ended badly) belongs to every
        selection that takes any of its cases: held out of the selection hooks, it goes back
        behind the last of its run's cases kept, or is deselected with them. A run with no
        case among ``items`` is selected by its ``(run)`` item alone."""
        with_cases = set(selected_cases(items))
        held = [i for i in items if isinstance(i, RunProblemItem) and i.run_key in with_cases]
        held_ids = {id(item) for item in held}
        if held:
            items[:] = [item for item in items if id(item) not in held_ids]
        yield
        kept = selected_cases(items)
        for item in held:
            if item.run_key in kept:
                items.insert(_after_last_of(items, item.run_key), item)
        dropped = [item for item in held if item.run_key not in kept]
        if dropped:
            config.hook.pytest_deselected(items=dropped)


@contextlib.contextmanager
def deselections_unreported(config: pytest.Config) -> Iterator[None]:
    """While selection hooks choose among items that are not collection's: the terminal must not
    count what they deselect, or its last line counts other items than its first."""
    hook: Any = config.hook
    told = hook.pytest_deselected
    hook.pytest_deselected = lambda **kwargs: None
    try:
        yield
    finally:
        hook.pytest_deselected = told


def _after_last_of(items: Sequence[pytest.Item], run: RunKey) -> int:
    """The place just after the last of ``items`` that reports on ``run``."""
    places = [i for i, item in enumerate(items) if getattr(item, "run_key", None) == run]
    return places[-1] + 1


class RemoteLast:
    """Remote items run after the local tests, whatever order other plugins chose (random,
    failed first, ...): by then most remote cases are done. Then each runs as its case is
    decided: the next one decided first, and those decided at the same moment in the order
    collection gave them (a run that had ended before the session reports in that order).

    It runs each remote item of the main loop itself, in its place in ``session.items``, to
    tell pytest which item comes next: that is known only once the next verdict is. Registered
    after :class:`~.items.RemoteReports`, so that its ``pytest_runtest_protocol`` comes first.
    """

    def __init__(self, live: LiveRuns) -> None:
        self._live = live
        #: The remote items of the main loop (not those run after it), by identity; where the
        #: loop is in ``session.items``; where the items placed in the order decided end; and
        #: the item this plugin is running.
        self._main: set[int] = set()
        self._index = 0
        self._placed = 0
        self._running: pytest.Item | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        local, remote = _split(session.items)
        session.items[:] = local + remote
        self._main = {id(item) for item in remote}
        self._index = len(local)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> bool | None:
        if id(item) not in self._main or item is self._running:
            return None
        items = item.session.items
        # The main loop runs session.items in order; from the first remote item on, all are.
        if not (self._index < len(items) and items[self._index] is item):
            self._index = items.index(item)
        index, self._index = self._index, self._index + 1
        if index >= self._placed:
            self._placed = index + place_decided(self._live, items, index)
        chosen = items[index]
        following = items[index + 1] if index + 1 < self._placed else None
        if following is None:
            following = teardown_hint(chosen, items, index + 1)
        if chosen is item and following is nextitem:
            return None  # what the main loop was about to run anyway (a run already over)
        self._running = chosen
        chosen.ihook.pytest_runtest_protocol(item=chosen, nextitem=following)
        return True


def place_decided(live: LiveRuns, items: list[pytest.Item], start: int) -> int:
    """Put first, from ``start``, the items whose verdicts are known, in the order they became
    known (waiting until one is); the others keep their order behind them. How many were put."""
    rest = items[start:]
    order = live.in_order_decided(
        [item.awaits if isinstance(item, RemoteItem) else None for item in rest]
    )
    placed = set(order)
    items[start:] = [rest[i] for i in order] + [
        item for i, item in enumerate(rest) if i not in placed
    ]
    return len(order)


def teardown_hint(
    chosen: pytest.Item, items: Sequence[pytest.Item], start: int
) -> pytest.Item | None:
    """What to tell pytest runs after ``chosen`` (its ``nextitem``), when which of
    ``items[start:]`` runs next is not known yet: one under another collector, if any is, so
    that ``chosen``'s collector is torn down (a remote collector has nothing to set up again);
    else the first, which shares it."""
    if start >= len(items):
        return None
    for index in (start, len(items) - 1):
        if items[index].parent is not chosen.parent:
            return items[index]
    return next((item for item in items[start:] if item.parent is not chosen.parent), items[start])


def _split(items: Sequence[pytest.Item]) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """The local items and the remote ones, each in their order."""
    local: list[pytest.Item] = []
    remote: list[pytest.Item] = []
    for item in items:
        (remote if isinstance(item, RemoteItem) else local).append(item)
    return local, remote


class RemoteRunner:
    """Runs, after the main test loop, the remote items it did not: under xdist those the
    workers selected (the controller alone waits for verdicts), and the items laid out late, for
    runs that were not listed in time, cases listed late and runs that ended badly."""

    def __init__(self, live: LiveRuns, workers: Workers | None, *, as_decided: bool) -> None:
        self._live = live
        self._workers = workers
        #: Each item when its case is decided (``--qatech-order last``), else in their order.
        self._as_decided = as_decided
        #: The runs some of whose cases the session selected.
        self._taken: set[RunKey] = set()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # After every selection (-k, -m, --lf, --deselect, node ids). Under xdist the workers
        # select, and say what only once they are done. With --collect-only nothing waits.
        if not _run_by(self._workers) and not session.config.option.collectonly:
            self._let_go(session.items)

    def _let_go(self, selected: Iterable[pytest.Item]) -> None:
        """Say which cases the session selected of the runs that listed cases at collection,
        and wait no more for those of which it selected none. A run that listed none yet
        (queued, or listing only at its end) is still waited for: its cases come late, and may
        be selected."""
        self._choose([run for run in self._live.first() if run.cases], selected)

    def _choose(self, runs: Sequence[RunSnapshot], selected: Iterable[pytest.Item]) -> None:
        """Which cases of ``runs`` the session reports (what their reruns may run again), from
        the items ``selected``: all of a run's, those it lists later too, when every case it
        has listed was selected. The runs none of whose cases was selected are let go."""
        chosen = selected_cases(selected)
        self._taken.update(key for key, keys in chosen.items() if keys)
        going = [run for run in runs if run.report is None]
        cases = {(run.provider, run.run_id): run.cases or () for run in going}
        self._live.choose(
            {
                key: Chosen(None if {case.key for case in listed} <= keys else keys)
                for key, listed in cases.items()
                for keys in [chosen.get(key, frozenset())]
            }
        )
        self._live.let_go(key for key in cases if not chosen.get(key))

    # Inside the other wrappers: the terminal's final percentage comes after these items too.
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        result = yield
        config = session.config
        if config.option.collectonly or session.shouldfail or session.shouldstop:
            return result
        first = self._live.first()
        if _run_by(self._workers):
            selected = self._workers.selected(session, first)
            self._let_go(selected)
            self._run(session, selected)
        layout = _layout(RunCollector.laid_out(session, first))
        selected = self._selected_once_listed(session, first, layout)
        final = self._live.ended()
        # The runs let go lay out nothing late: none of their items was selected.
        gone = {(run.provider, run.run_id) for run in self._live.let_go_runs()}
        kept = [
            (before, now)
            for before, now in zip(first, final, strict=True)
            if (before.provider, before.run_id) not in gone
        ]
        if any(_came_late(before, now) for before, now in kept):
            late = _laid_out_items(session, [now for _, now in kept], layout)
            # The verdict of a run some of whose cases were selected is selected with them.
            verdicts = [
                i for i in late if isinstance(i, RunProblemItem) and i.run_key in self._taken
            ]
            late = [item for item in late if item not in verdicts]
            selected += [*self._select_late(session, late), *verdicts]
        if selected:
            self._run(session, selected)
        return result

    def _selected_once_listed(
        self,
        session: pytest.Session,
        first: Sequence[RunSnapshot],
        layout: dict[str, Sequence[Entry]],
    ) -> list[pytest.Item]:
        """The selected items of the runs that had listed no case at collection, once each has
        listed some (or ended); those of which none is selected are let go then."""
        unlisted = [
            (run.provider, run.run_id) for run in first if run.report is None and not run.cases
        ]
        if not unlisted:
            return []
        listed = self._live.listed(unlisted)
        items = self._select_late(session, _laid_out_items(session, listed, layout))
        self._choose(listed, items)
        return items

    def _select_late(self, session: pytest.Session, items: list[pytest.Item]) -> list[pytest.Item]:
        """What the session's selection keeps of ``items``, laid out after collection. What it
        leaves out is said of each run, not counted with what collection deselected: the
        terminal's first and last lines count the same items."""
        config = session.config
        laid_out = list(items)
        with deselections_unreported(config):
            config.hook.pytest_collection_modifyitems(session=session, config=config, items=items)
        kept = {id(item) for item in items}
        left_out: dict[RunKey, int] = {}
        for item in laid_out:
            if id(item) not in kept and isinstance(item, RemoteItem):
                left_out[item.run_key] = left_out.get(item.run_key, 0) + 1
        for (provider, run_id), count in left_out.items():
            self._live.say(
                Noted(
                    run_label(title_of(provider), run_id),
                    f"{counted(count, 'case')} listed after collection left out by the selection",
                )
            )
        return items

    def _run(self, session: pytest.Session, items: Sequence[pytest.Item]) -> None:
        """Run ``items`` as the main loop would, each as its case is decided if so ordered.
        Stopped by ``-x`` or ``--sw``, it stops as pytest's own loop does: ``--sw`` interrupts
        the session (exit 2)."""
        session.testscollected += len(items)
        left, placed = list(items), 0
        while left:
            if self._as_decided and not placed:
                placed = place_decided(self._live, left, 0)
            item = left.pop(0)
            placed = max(0, placed - 1)
            following = left[0] if left and (placed or not self._as_decided) else None
            if following is None:
                following = teardown_hint(item, left, 0)
            item.ihook.pytest_runtest_protocol(item=item, nextitem=following)
            if session.shouldfail:
                raise session.Failed(session.shouldfail)
            if session.shouldstop:
                raise session.Interrupted(session.shouldstop)


def _run_by(workers: Workers | None) -> TypeGuard[Workers]:
    """Whether xdist's workers run the session's tests (this process is their controller)."""
    return workers is not None and workers.run_tests


def _came_late(first: RunSnapshot, final: RunSnapshot) -> bool:
    """Whether a run has something to report that was not laid out from its first snapshot: a
    case listed since, or the run's end, if it ended badly or could not be read."""
    if first.report is not None:
        return False  # it had ended: all of it was laid out
    if final.ended_badly:
        return True
    known = {case.key for case in first.cases or ()}
    return any(case.key not in known for case in final.cases or ())


def _layout(collectors: Sequence[RunCollector]) -> dict[str, Sequence[Entry]]:
    return {collector.nodeid: collector.entries for collector in collectors}


def _laid_out_items(
    session: pytest.Session, runs: Sequence[RunSnapshot], layout: dict[str, Sequence[Entry]]
) -> list[pytest.Item]:
    """The items of ``runs`` not in ``layout`` yet, which then holds them too."""
    collectors = RunCollector.laid_out(session, runs, layout)
    for collector in collectors:
        layout[collector.nodeid] = (*layout.get(collector.nodeid, ()), *collector.entries)
    return [item for collector in collectors for item in collector.collect()]


class RemoteSelection:
    """Remote node ids given as arguments (``qatech::abc123::Login``, or a run's collector id,
    ``qatech::abc123``), which pytest would look for as files: taken off the arguments, they
    select exactly those remote items, as a local node id selects its test."""

    def __init__(self, wanted: Sequence[str], skipped: Iterable[str] = ()) -> None:
        self.wanted = tuple(wanted)
        #: The platforms whose runs were skipped (their credentials missing): what names
        #: anything of theirs names their one skipped item.
        self._skipped = frozenset(skipped)
        self._found: set[str] = set()
        #: Whether the node ids that name nothing were a usage error at collection already.
        self.refused = False

    @classmethod
    def taken_from(
        cls, config: pytest.Config, platforms: Iterable[str], skipped: Iterable[str] = ()
    ) -> RemoteSelection | None:
        """The remote node ids among ``config.args``, which keeps the others; None if none.
        ``skipped``: the platforms whose runs were skipped."""
        names = tuple(platforms)
        prefixes = tuple(f"{name}::" for name in names)
        here = config.invocation_params.dir
        wanted = [
            arg
            for arg in config.args
            # A platform's name alone is the collector of its only run, unless it is a path.
            if arg.startswith(prefixes) or (arg in names and not (here / arg).exists())
        ]
        if not wanted:
            return None
        # Only remote ids: no local path is collected, as pytest collects only what is named.
        config.args = [arg for arg in config.args if arg not in wanted]
        return cls(wanted, skipped)

    @staticmethod
    def names(wanted: str, nodeid: str) -> bool:
        """Whether the argument ``wanted`` names this item: its node id, or a collector's."""
        return nodeid == wanted or nodeid.startswith(wanted + "::")

    def selects(self, nodeid: str) -> str | None:
        """The argument that selects this remote item, if one does."""
        return next((wanted for wanted in self.wanted if self.names(wanted, nodeid)), None)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        kept: list[pytest.Item] = []
        deselected: list[pytest.Item] = []
        for item in items:
            if isinstance(item, SkippedSourceItem):
                named = any(self._of_skipped(wanted) for wanted in self.wanted)
                (kept if named else deselected).append(item)
            elif not isinstance(item, RemoteItem):
                kept.append(item)
            elif (wanted := self.selects(item.nodeid)) is not None:
                self._found.add(wanted)
                kept.append(item)
            else:
                deselected.append(item)
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = kept

    def not_found(self) -> list[str]:
        return [w for w in self.wanted if w not in self._found and not self._of_skipped(w)]

    def _of_skipped(self, wanted: str) -> bool:
        """Whether ``wanted`` names something of a platform whose runs were skipped."""
        return any(self.names(platform, wanted) for platform in self._skipped)

    def check_at_collection(self, runs: Sequence[RunSnapshot], workers: Workers | None) -> None:
        """A remote node id that names nothing is a usage error at once, as pytest's for a
        local one is, when every run was laid out at collection: no item can come late.
        Otherwise, and under xdist (whose workers select), it is one at the session's end."""
        missing = self.not_found()
        laid_out = all(run.cases is not None or run.report is not None for run in runs)
        if missing and laid_out and not _run_by(workers):
            self.refused = True
            raise pytest.UsageError(
                "\n".join(
                    f"not found: {wanted} (no remote item has this node id)" for wanted in missing
                )
            )
