"""The session's remote runs as a background wait learns them, read from the main thread.

The wait starts with the session and runs beside collection and the local tests
(:class:`~pytest_qatech.core.background.Background`). The main thread waits on the runs it
shares only for what it needs at that moment: the runs' cases, to collect them (briefly), a
case's verdict, to report it, and the runs' end, to report what came late. Whenever it waits, it
says what the wait said (status changes, signs of life, warnings) and tells the project's hooks
of each run that ended.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from pytest_qatech.core.background import Background, SharedRuns
from pytest_qatech.core.events import Listener, Said, Warned, silent
from pytest_qatech.core.interrupts import Interrupts
from pytest_qatech.core.lines import TerminalLines
from pytest_qatech.core.models import Listed, RunReport, RunSnapshot, StartedRun, UnreadableRun
from pytest_qatech.core.options import QATECH, run_label, title_of
from pytest_qatech.core.platforms import Settings
from pytest_qatech.core.text import clean, one_line, visible
from pytest_qatech.core.waiting import Chosen

if TYPE_CHECKING:
    from _pytest._code.code import TracebackEntry

    from pytest_qatech.core.plan_cases import Choice, Selection

#: What pytest's selection leaves of each test plan's known cases, once the session started.
Select = Callable[[pytest.Session], Mapping[str, "Selection"]]


def listener(config: pytest.Config) -> Listener:
    """Plain lines, on a terminal as in a CI log; nothing with ``-qq``.

    They may come between two tests (a remote item waits for its verdict) or during one (an
    item's hook implementation waits): the capture is suspended around them.
    """
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is None or config.get_verbosity() < -1:
        return silent
    capture = config.pluginmanager.get_plugin("capturemanager")
    writer = config.get_terminal_writer()

    def write_line(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            terminal.ensure_newline()
            # pytest leaves "collecting ... " open on the line.
            if writer.width_of_current_line:
                writer.line()
            terminal.write_line(line)

    return TerminalLines(write_line)


def has_line(entry: TracebackEntry) -> bool:
    """Whether a traceback entry has a line number pytest can show."""
    try:
        entry.lineno  # noqa: B018 - the property is what fails
    except TypeError:
        return False
    return True


#: A case of a run, as the shared runs know it: its provider's name, its run's id and its key
#: (None: the run itself).
CaseId = tuple[str, str, str | None]
#: Where a session's items find the runs they report.
LIVE_RUNS: pytest.StashKey[LiveRuns] = pytest.StashKey()
#: The longest collection waits for the runs' cases to be listed. A run not listed by then has
#: its items after the local tests, with the cases that appear late.
LISTING_SECONDS = 5.0
#: The longest the main thread waits at a time, between two looks for Ctrl-C.
SLICE_SECONDS = 0.2


@dataclass(frozen=True)
class HookError:
    """A project hook implementation that raised: the hook, what it was told of, and the
    traceback."""

    hook: str
    about: str
    traceback: str


class LiveRuns:
    """Registered in the process that talks to the APIs: the only one, or the xdist controller."""

    def __init__(
        self, config: pytest.Config, settings: Settings, select: Select | None = None
    ) -> None:
        self._config = config
        #: The settings waited with: once runs are started, with them.
        self.settings = settings
        self._select = select
        #: The runs this session started.
        self.started: tuple[StartedRun, ...] = ()
        #: What was started (or, with --collect-only, would be) of each plan pytest selected
        #: among; and why the project's test cases could not be read, if they could not.
        self.choices: tuple[Choice, ...] = ()
        self.lookup_problem: str | None = None
        #: The wait, from the session's start.
        self._background: Background | None = None
        self._say: Listener = silent
        self._began = time.monotonic()
        self._first: tuple[RunSnapshot, ...] | None = None
        #: With ``--collect-only``: the cases each plan's start would run, as a run's.
        self.previews: tuple[RunSnapshot, ...] = ()
        self._told: set[tuple[str, str]] = set()
        #: The project's hook implementations that raised.
        self.hook_errors: list[HookError] = []
        #: Ctrl-C, taken once while the session lasts.
        self.interrupts = Interrupts()

    def __repr__(self) -> str:
        return f"LiveRuns({self._background and self._background.shared!r})"

    @property
    def _shared(self) -> SharedRuns:
        assert self._background is not None, "read before the session started"
        return self._background.shared

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # Before the terminal's header (trylast), which names the runs started, and before xdist
        # starts its workers (trylast), which are handed the first snapshot.
        self.interrupts.install()
        self._say = listener(self._config)
        self._began = time.monotonic()
        failed: tuple[UnreadableRun, ...] = ()
        # Given only with a start to narrow (--collect-only keeps the start, and starts nothing).
        selections = self._select(session) if self._select is not None else {}
        if self._config.option.collectonly:
            from pytest_qatech.core.plan_cases import choose

            # What would be started: by the names, the ids being looked up only at a start;
            # its cases are what collection lists.
            self.choices = tuple(choose(selection, {}) for selection in selections.values())
            self.previews = tuple(
                selection.known.snapshot(selection.places)
                for selection in selections.values()
                if selection.places
            )
        elif self.settings.start is not None:
            from pytest_qatech.core.starting import start_runs

            starts = start_runs(self.settings, selections, say=self._say)
            if starts.unknown:
                raise pytest.UsageError("\n".join(starts.unknown))
            self.settings, self.started, failed = starts.settings, starts.started, starts.failed
            self.choices, self.lookup_problem = starts.choices, starts.lookup_problem
            if self.started:
                about = ", ".join(run_label(QATECH.title, run.run_id) for run in self.started)
                self._notify("pytest_qatech_runs_started", about, runs=self.started)
        self._background = Background(self.settings, SharedRuns(self.settings.sources, failed))
        self._background.start()

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Ctrl-C reported as pytest reports it, wherever it landed. It may land on an
        instruction that has no line number (Python 3.11: a with-statement's ``__enter__``),
        whose traceback entry pytest's report cannot show: it would end in a TypeError, exit 1.
        Such an entry is left out. And each run still going is said to be."""
        excinfo.traceback = excinfo.traceback.filter(has_line)
        if self._background is not None:  # else Ctrl-C came before the wait began
            for said in self._shared.interrupted(time.monotonic() - self._began):
                self._say(said)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self.stop()

    def stop(self) -> None:
        """End the wait, if it is still going (the session stopped early), and say what is left."""
        if self._background is not None:
            self._background.stop()
            self._tell()

    @property
    def failure(self) -> str | None:
        """Why the wait broke off, if it did."""
        return self._shared.failure

    def first(self) -> tuple[RunSnapshot, ...]:
        """The runs as known once their cases are listed, or a few seconds have passed: what
        every process collects items from. The same snapshot every time it is asked for."""
        if self._first is None:
            try:
                self.until(self._shared.laid_out, self._began + LISTING_SECONDS)
            finally:
                # Ctrl-C too ends the wait for it: the hooks that run as pytest stops (the end
                # of collection) must not wait for it once more.
                self._first = self._shared.runs() + self.previews
        return self._first

    def decided(self, case: CaseId) -> bool:
        """Whether the case has its final verdict, or its run has ended (a case without a
        verdict then never gets one)."""
        provider, run_id, key = case
        listed = self._shared.case(provider, run_id, key) if key is not None else None
        if listed is not None and listed.verdict is not None:
            return True
        return self._shared.run(provider, run_id, with_cases=False).report is not None

    def verdict(self, case: CaseId) -> tuple[RunSnapshot, Listed | None]:
        """The case once it is :meth:`decided`, with its run as then known (without its
        cases)."""
        if not self.decided(case):  # a case already decided takes its verdict without waiting
            self.until(lambda: self.decided(case))
        provider, run_id, key = case
        shared = self._shared
        listed = shared.case(provider, run_id, key) if key is not None else None
        return shared.run(provider, run_id, with_cases=False), listed

    def in_order_decided(self, cases: Sequence[CaseId | None]) -> list[int]:
        """The places in ``cases`` of those whose verdicts are known (None: one that waits for
        none), in the order they became known, those known at one moment in their order here;
        once at least one is known. Each may still wait for its details: a verdict's moment is
        when the platform's answer gave it.

        Later verdicts have later moments, so what this leaves out comes after all it gives."""
        moments: list[int | None] = []

        def any_known() -> bool:
            moments[:] = self._shared.moments(cases)
            return any(moment is not None for moment in moments)

        if not any_known():
            self.until(any_known)
        known = [(moment, index) for index, moment in enumerate(moments) if moment is not None]
        # The wait broke off (Ctrl-C aside): every case is as decided as it will be.
        return [index for _, index in sorted(known)] or list(range(len(cases)))

    def choose(self, chosen: Mapping[tuple[str, str], Chosen]) -> None:
        """Which cases of these runs (provider, run id) the session reports: what a rerun may
        run again."""
        self._shared.choose(chosen)

    def let_go(self, runs: Iterable[tuple[str, str]]) -> None:
        """Wait no more for these runs (provider, run id): none of their items is selected."""
        self._shared.not_wanted(runs)

    def listed(self, runs: Sequence[tuple[str, str]]) -> tuple[RunSnapshot, ...]:
        """These runs (provider, run id), once each has listed a case or ended."""
        wanted = set(runs)
        self.until(lambda: self._shared.listed(wanted))
        return tuple(run for run in self._shared.runs() if (run.provider, run.run_id) in wanted)

    def let_go_runs(self) -> list[RunSnapshot]:
        """The runs waited for no more, as known when they were let go."""
        return self._shared.unwanted()

    def ended(self) -> tuple[RunSnapshot, ...]:
        """Every run, once each has ended or could not be read, or was let go."""
        self.until(self._shared.ended_all)
        return self._shared.runs()

    @property
    def known(self) -> tuple[RunReport, ...]:
        """The outcomes of the runs that have ended so far, without waiting."""
        return tuple(self._shared.reports())

    def until(self, ready: Callable[[], bool], deadline: float | None = None) -> bool:
        """Wait until ``ready()`` (or the wait is over, or ``deadline`` passes); whether it is
        ready. Ctrl-C lands here at once."""
        shared = self._shared
        while not self.interrupts.happened:  # the hooks run as pytest stops wait for nothing
            # In slices: Ctrl-C may be delivered to another thread of this process, and is
            # then seen here only once this thread runs Python again.
            timeout = SLICE_SECONDS
            if deadline is not None:
                timeout = min(timeout, max(0.0, deadline - time.monotonic()))
            done = shared.wait(lambda: ready() or shared.over, timeout)
            self._tell()
            if done or (deadline is not None and time.monotonic() >= deadline):
                return ready()
        return ready()

    def say(self, said: Said) -> None:
        """Say something of the runs, as the wait's own words are said."""
        self._say(said)

    def _tell(self) -> None:
        """Say what the wait has said, and tell the project's hooks of each run that ended."""
        for said in self._shared.take_said():
            self._say(said)
        for report in self._shared.reports():
            if (report.provider, report.run_id) not in self._told:
                self._told.add((report.provider, report.run_id))
                about = run_label(title_of(report.provider), report.run_id)
                self._notify("pytest_qatech_run_finished", about, run=report)

    def _notify(self, hook: str, about: str, **kwargs: object) -> None:
        """Tell the project's implementations of ``hook`` of something (``about``). One that
        raises (a chat that is down) costs no report: its error is said at once and in the
        summary, with its traceback, everything else goes on, and the session fails."""
        try:
            getattr(self._config.hook, hook)(config=self._config, **kwargs)
        except Exception as error:
            # Its words may hold what a server said, or a credential this process holds.
            told = visible(clean("".join(traceback.format_exception(error))))
            self.hook_errors.append(HookError(hook, about, told))
            raised = visible(clean(one_line(f"{type(error).__name__}: {error}")))
            self._say(
                Warned(
                    about,
                    f"the project's {hook} hook raised {raised}; the "
                    "session goes on, and fails (its traceback is in the summary)",
                )
            )
