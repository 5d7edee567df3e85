"""A wait that runs in the background, and the runs as it learns them, shared with the main
thread.

The background thread (:class:`Background`) only talks to the APIs and writes to
:class:`SharedRuns`: each run's status and cases as they are listed and decided, each run's end,
and what it would have printed. It calls no hook, writes to no terminal and never dies of an
exception: whatever goes wrong becomes state there. A front end's main thread reads them, waits
on them for what it needs (a run's cases, a case's verdict), and says what the wait said.
"""

from __future__ import annotations

import itertools
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pytest_qatech.core.events import Decided, Ended, Interrupted, Progressed, Said
from pytest_qatech.core.models import (
    FinishedRun,
    Listed,
    RemoteCase,
    RunReport,
    RunSnapshot,
    UnreadableRun,
)
from pytest_qatech.core.options import run_label
from pytest_qatech.core.platforms import Settings
from pytest_qatech.core.providers.base import Progress, Provider, RunSource
from pytest_qatech.core.sending import ThreadedSender
from pytest_qatech.core.waiting import Chosen, Job, Stopped, wait_for_sources

#: A run as events name it: its provider's name and its id.
RunKey = tuple[str, str]


@dataclass
class _RunState:
    provider: Provider
    run_id: str
    label: str | None = None
    status: str | None = None
    group: str | None = None
    #: Each case's name by its key, in the order first listed; None until the run lists any.
    names: dict[str, str] | None = None
    #: Each case's final verdict, by its key (kept apart: a run may have thousands of cases).
    verdicts: dict[str, RemoteCase] = field(default_factory=dict)
    #: The platform's id of each case whose listing gave one, by its key.
    case_ids: dict[str, str] = field(default_factory=dict)
    #: The moment each case's verdict was first known, by its key (its details may come later).
    seen: dict[str, int] = field(default_factory=dict)
    report: RunReport | None = None
    #: The moment the run ended.
    ended_at: int | None = None
    #: The front end reports none of its cases: it is waited for no more.
    unwanted: bool = False
    #: Its last status says it has ended.
    finished: bool = False
    #: Which of its cases the front end reports, once it knows.
    chosen: Chosen | None = None

    def snapshot(self, *, with_cases: bool = True) -> RunSnapshot:
        cases = None
        if self.names is not None and with_cases:
            verdicts, ids = self.verdicts, self.case_ids
            cases = tuple(
                Listed(key, name, verdicts.get(key), ids.get(key))
                for key, name in self.names.items()
            )
        return RunSnapshot(
            self.provider.name,
            self.run_id,
            self.status,
            self.group,
            cases,
            self.report,
            self.provider.run_url(self.run_id),
            self.label,
            self.finished or self.report is not None,
        )

    def case(self, key: str) -> Listed:
        assert self.names is not None
        return Listed(key, self.names[key], self.verdicts.get(key), self.case_ids.get(key))

    @property
    def laid_out(self) -> bool:
        """Whether its cases are known as far as they can be while it goes on: listed, or, for a
        platform that lists them only at the end, its first answer is in. Either way a run that
        cannot be read is known to be so, the same in every session."""
        if self.report is not None:
            return True
        if self.finished:
            return False  # its report comes once its cases' details are in: every case's end
        if self.names is not None:
            return True
        return self.status is not None and not self.provider.lists_while_running


class SharedRuns:
    """What the background wait has learnt so far; thread-safe.

    It is the wait's listener: what the wait learns of a run changes the run as known here,
    and what the wait says is kept for the main thread, which says it (:meth:`take_said`).
    Runs are named as events name them: ``(provider name, run id)``.
    """

    def __init__(self, sources: Sequence[RunSource], settled: Sequence[UnreadableRun] = ()) -> None:
        """``settled``: runs known to have ended before the wait starts (starts that failed)."""
        self._changed = threading.Condition()
        providers = {source.provider.name: source.provider for source in sources}
        # A start that failed goes by what it was to start (pln_x, default-plan), as a run
        # started from a plan goes by the plan: qatech::pln_x.
        self._runs = {
            (report.provider, report.run_id): _RunState(
                providers[report.provider],
                report.run_id,
                report.run_id if report.start_of is not None else None,
                report=report,
            )
            for report in settled
        }
        self._runs.update(
            (
                (source.provider.name, run_id),
                _RunState(source.provider, run_id, source.label(run_id)),
            )
            for source in sources
            for run_id in source.run_ids
        )
        self._said: list[Said] = []
        #: What these runs learn, numbered in order: facts of one answer share a number.
        self._moments = itertools.count()
        #: Why the background wait broke off, if it did.
        self.failure: str | None = None
        #: The background wait is over: every run has its report, or the wait broke off or
        #: was stopped.
        self.over = False

    def __repr__(self) -> str:
        return f"SharedRuns({len(self._runs)} runs, over={self.over})"

    # What the background wait writes.

    def __call__(self, said: Said) -> None:
        match said:
            case Progressed(provider, run_id, progress):
                self.progressed((provider, run_id), progress)
            case Decided(provider, run_id, cases):
                self.decided((provider, run_id), cases)
            case Ended(provider, run_id, report):
                self.ended((provider, run_id), report)
            case _:
                with self._changed:
                    self._said.append(said)
                    self._changed.notify_all()

    def progressed(self, run: RunKey, progress: Progress) -> None:
        with self._changed:
            moment = next(self._moments)
            state = self._runs[run]
            state.status = progress.status
            state.finished = progress.finished
            if progress.group is not None:
                state.group = progress.group
            if progress.cases is not None:
                # A verdict only from decided(): the one in a listing may still lack details.
                # The listing says when it was known.
                names = state.names if state.names is not None else {}
                for case in progress.cases:
                    names.setdefault(case.key, case.name)
                    if case.case_id is not None:
                        state.case_ids.setdefault(case.key, case.case_id)
                    if case.verdict is not None:
                        state.seen.setdefault(case.key, moment)
                state.names = names
            self._changed.notify_all()

    def decided(self, run: RunKey, cases: Sequence[RemoteCase]) -> None:
        with self._changed:
            moment = next(self._moments)
            state = self._runs[run]
            if state.names is None:
                state.names = {}
            for case in cases:
                state.names.setdefault(case.key, case.name)
                state.verdicts[case.key] = case
                state.seen.setdefault(case.key, moment)
            self._changed.notify_all()

    def ended(self, run: RunKey, report: RunReport) -> None:
        with self._changed:
            state = self._runs[run]
            state.report = report
            state.ended_at = next(self._moments)
            if isinstance(report, FinishedRun):
                state.status, state.group = report.status, report.group
                known = state.names or {}
                state.names = {case.key: known.get(case.key, case.name) for case in report.cases}
                state.verdicts = {case.key: case for case in report.cases}
            self._changed.notify_all()

    def wanted(self, provider: str, run_id: str) -> bool:
        """Whether the run is still wanted (a :data:`~pytest_qatech.core.waiting.Wanted`)."""
        with self._changed:
            return not self._runs[(provider, run_id)].unwanted

    def selected(self, provider: str, run_id: str) -> Chosen | None:
        """Which of the run's cases the front end reports, once it has said (a
        :data:`~pytest_qatech.core.waiting.Selected`)."""
        with self._changed:
            return self._runs[(provider, run_id)].chosen

    def finish(self, failure: str | None = None) -> None:
        """The background wait is over; ``failure`` says why, if it broke off."""
        with self._changed:
            self.failure = failure
            self.over = True
            self._changed.notify_all()

    # What the main thread reads.

    def take_said(self) -> list[Said]:
        """What the wait has said since this was last asked."""
        with self._changed:
            said, self._said = self._said, []
            return said

    def interrupted(self, elapsed: float) -> list[Interrupted]:
        """What to say of Ctrl-C: each run still waited for, as last known."""
        with self._changed:
            return [
                Interrupted(run_label(state.provider.title, state.run_id), state.status, elapsed)
                for state in self._runs.values()
                if state.report is None and not state.unwanted
            ]

    def runs(self) -> tuple[RunSnapshot, ...]:
        with self._changed:
            return tuple(state.snapshot() for state in self._runs.values())

    def run(self, provider: str, run_id: str, *, with_cases: bool = True) -> RunSnapshot:
        """A run as known now; without its cases, cheap whatever their number."""
        with self._changed:
            return self._runs[(provider, run_id)].snapshot(with_cases=with_cases)

    def case(self, provider: str, run_id: str, key: str) -> Listed | None:
        """A case of a run as known now, by its key."""
        with self._changed:
            state = self._runs[(provider, run_id)]
            return state.case(key) if state.names is not None and key in state.names else None

    def moments(self, cases: Sequence[tuple[str, str, str | None] | None]) -> list[int | None]:
        """For each case (provider, run id, key; no key: the run itself), the moment its
        verdict was first known, or its run ended; None while neither has happened. A None in
        ``cases`` is -1."""
        with self._changed:
            moments: list[int | None] = []
            for case in cases:
                if case is None:
                    moments.append(-1)
                    continue
                provider, run_id, key = case
                state = self._runs[(provider, run_id)]
                seen = state.seen.get(key) if key is not None else None
                moments.append(seen if seen is not None else state.ended_at)
            return moments

    def reports(self) -> list[RunReport]:
        """The outcomes of the runs that have ended, in order."""
        with self._changed:
            return [state.report for state in self._runs.values() if state.report is not None]

    def laid_out(self) -> bool:
        """Whether every run's cases are known as far as they can be while it goes on."""
        with self._changed:
            return self.over or all(state.laid_out for state in self._runs.values())

    def ended_all(self) -> bool:
        """Whether every run still wanted has ended."""
        with self._changed:
            return self.over or all(
                state.report is not None or state.unwanted for state in self._runs.values()
            )

    def listed(self, runs: Iterable[tuple[str, str]]) -> bool:
        """Whether each of these runs (provider, run id) has listed a case, or has ended, or is
        no longer wanted: what it has is known as far as a front end can select from it."""
        with self._changed:
            return self.over or all(
                bool(state.names) or state.report is not None or state.unwanted
                for state in (self._runs[key] for key in runs)
            )

    def not_wanted(self, runs: Iterable[tuple[str, str]]) -> None:
        """Wait no more for these runs (provider, run id) that have not ended: the front end
        reports none of their cases."""
        with self._changed:
            for key in runs:
                state = self._runs[key]
                if state.report is None:
                    state.unwanted = True
            self._changed.notify_all()

    def choose(self, chosen: Mapping[RunKey, Chosen]) -> None:
        """Which of these runs' cases the front end reports: the first word on a run stands."""
        with self._changed:
            for key, cases in chosen.items():
                state = self._runs[key]
                if state.chosen is None:
                    state.chosen = cases
            self._changed.notify_all()

    def unwanted(self) -> list[RunSnapshot]:
        """The runs waited for no more, as known when they were let go."""
        with self._changed:
            return [state.snapshot() for state in self._runs.values() if state.unwanted]

    def wait(self, ready: Callable[[], bool], timeout: float | None) -> bool:
        """Until ``ready()``, something is queued to say, or ``timeout`` seconds pass (None:
        no limit); whether it is ready. ``ready`` is called with the shared runs locked: it may read
        the shared runs."""
        with self._changed:
            self._changed.wait_for(lambda: ready() or bool(self._said), timeout)
            return ready()


class _StoppableClock:
    """System time, whose sleep a stop cuts short."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)


@dataclass
class Background:
    """The wait for a session's runs, with listing, in a thread of its own, writing to
    ``shared``."""

    settings: Settings
    shared: SharedRuns
    _stop: threading.Event = field(default_factory=threading.Event)
    _sender: ThreadedSender[Job] = field(default_factory=ThreadedSender)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._wait, name="qatech-wait", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the wait at once, and its threads soon after: a request still under way is cut,
        not waited for."""
        self._stop.set()
        self._sender.interrupt()
        self._sender.cut()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._sender.join(timeout=1.0)

    def _wait(self) -> None:
        failure = None
        try:
            wait_for_sources(
                self.settings,
                say=self.shared,
                clock=_StoppableClock(self._stop),
                sender=self._sender,
                listing=True,
                wanted=self.shared.wanted,
                selected=self.shared.selected,
                stop=self._stop,
            )
        except Stopped:
            pass
        except BaseException as error:  # it becomes what the items report
            last = traceback.format_exception_only(type(error), error)[-1].strip()
            failure = f"the wait for the remote runs broke off: {last}"
        self.shared.finish(failure)
