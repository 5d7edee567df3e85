"""The pytest nodes: a collector per remote run (or group of runs) and an item per remote case.

Node ids are ``<provider>::<run id>::<case name>`` (``<provider>::<folder>::<test name>`` for
platforms that group runs in folders), so ``-k``, ``-m``, ``--deselect``, ``--lf`` and JUnit's
classname (``qatech.<run id>``) all work as they do for local tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

# pytest does not export these; they are what it uses itself for ``--tb=native``, and they are
# the one longrepr shape that xdist carries to the controller with the crash message intact,
# which is what JUnit's ``message`` attribute and the short summary show.
from _pytest._code.code import (
    ReprExceptionInfo,
    ReprFileLocation,
    ReprTracebackNative,
    TerminalRepr,
)
from _pytest.nodes import Node

from pytest_qatech.core.models import (
    Listed,
    Outcome,
    RemoteCase,
    RunFacts,
    RunReport,
    RunSnapshot,
    SkippedSource,
    UnreadableRun,
)
from pytest_qatech.core.naming import (
    SKIPPED_ITEM_NAME,
    Entry,
    Group,
    NameOf,
    groups,
    skipped_nodeid,
)
from pytest_qatech.core.rendering import (
    STEP_TEXT_SHOWN,
    Rendered,
    TraceStyle,
    attempt_lines,
    case_link,
    no_verdict,
    render_case,
    render_problem,
    skipped_reason,
)
from pytest_qatech.core.text import first_line, visible
from pytest_qatech.session.live import LIVE_RUNS, CaseId, LiveRuns

if TYPE_CHECKING:
    from _pytest._code.code import TracebackStyle
    from _pytest._io import TerminalWriter


#: The outcome of a report of an earlier attempt, and its category in the terminal's counts.
RERUN = "rerun"
#: How many of a case's steps ``--tb=short`` shows, as it shows only a traceback's last frames.
SHORT_TRACE_STEPS = 3


def trace_style(config: pytest.Config) -> TraceStyle:
    """How much of a remote case's steps to show, as ``--tb`` and ``-v`` say for frames:
    ``--tb=short`` the last few steps, else all read; ``-vv`` each of their texts uncut."""
    last = SHORT_TRACE_STEPS if config.option.tbstyle == "short" else None
    return TraceStyle(last, None if config.option.verbose >= 2 else STEP_TEXT_SHOWN)


class RemoteVerdict(Exception):
    """What the platform said, raised by a remote node to report it without a Python traceback:
    a case or run without a verdict, reported as an error (Allure: broken).

    Its module reads ``builtins``, as pytest's own outcome exceptions do, so that a tool that
    shows the exception (Allure's message) shows ``RemoteVerdict: <headline>``, no module path.
    """

    __module__ = "builtins"

    def __init__(self, rendered: Rendered) -> None:
        super().__init__(rendered.headline)
        self.rendered = rendered


class RemoteFailure(RemoteVerdict, AssertionError):
    """A remote case that FAILED: an assertion about the product that did not hold, which is
    how tools that sort failures by exception type (allure-pytest: "failed", not "broken") tell
    it from an error."""

    __module__ = "builtins"


@dataclasses.dataclass(eq=False)
class NodeLocation(ReprFileLocation):
    """Where a remote verdict is: a node id, not a file and a line. ``--tb=line`` shows it as
    ``<node id>: <headline>``; the line number stays 0 for the tools that read it."""

    def toterminal(self, tw: TerminalWriter) -> None:
        tw.write(self.path, bold=True, red=True)
        tw.line(f": {first_line(self.message)}")


def item_names(session: pytest.Session) -> NameOf:
    """The names a project's ``pytest_qatech_item_name`` hook gives, else the cases' own."""

    def name_of(case: Listed, run_id: str) -> str:
        chosen = session.ihook.pytest_qatech_item_name(case=case, run_id=run_id)
        return chosen if isinstance(chosen, str) else case.name

    return name_of


class RemoteNode(Node):
    """What a remote collector and a remote item share: a remote verdict's words as its report
    shows them, and a node id where a file and a line would be."""

    def _repr_failure_py(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None
    ) -> TerminalRepr:
        return _verdict_repr(self, excinfo) or super()._repr_failure_py(excinfo, style)

    def reportinfo(self) -> tuple[str, int, str]:
        return _location(self)


class RunCollector(RemoteNode, pytest.Collector):
    """A remote run, whose children are its cases; or, where the platform groups runs (an
    Autonoma folder), the runs of one group, whose children are their cases."""

    def __init__(
        self, *, group: Group, entries: Sequence[Entry], late: bool, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.group = group
        self.entries = entries
        #: Laid out after the main test loop, for what was not known at collection.
        self.late = late

    @classmethod
    def laid_out(
        cls, session: pytest.Session, runs: Iterable[RunSnapshot], earlier: Layout | None = None
    ) -> list[RunCollector]:
        """A collector per group of ``runs`` that has something to report: all of it, or, late,
        what was not laid out ``earlier``."""
        name_of = item_names(session)
        collectors = []
        for group in groups(runs):
            before = earlier.get(group.nodeid, ()) if earlier is not None else ()
            entries = group.entries(name_of, before)
            if entries:
                collectors.append(
                    cls.from_parent(
                        session,
                        name=group.name or group.provider,
                        nodeid=group.nodeid,
                        group=group,
                        entries=entries,
                        late=earlier is not None,
                    )
                )
        return collectors

    def collect(self) -> Iterable[pytest.Item]:
        if not self.late:
            # A collection error, as a local module that cannot be imported.
            for report in self.group.unreadable:
                if report.start_of is None:
                    raise RemoteVerdict(Rendered(visible(report.message)))
        # The same marker objects for all the items: with 10,000 cases, one each adds up.
        markers = (getattr(pytest.mark, self.group.provider), pytest.mark.remote)
        items: list[pytest.Item] = []
        for entry in self.entries:
            if entry.case is None:
                problem = entry.run.report
                assert problem is not None
                # A start that failed is an error where its run would be, under the node id a
                # run of its plan goes by: the local tests still run, and the session fails.
                failed_start = isinstance(problem, UnreadableRun) and problem.start_of is not None
                where = {"nodeid": self.nodeid} if failed_start else {}
                items.append(
                    RunProblemItem.from_parent(
                        self, name=entry.name, report=problem, markers=markers, **where
                    )
                )
                continue
            item = RemoteCaseItem.from_parent(
                self, name=entry.name, run=entry.run, case=entry.case, markers=markers
            )
            self.ihook.pytest_qatech_modify_item(item=item, case=entry.case)
            items.append(item)
        return items


#: The entries laid out for each group, by its node id.
Layout = Mapping[str, Sequence[Entry]]


class RemoteItem(RemoteNode, pytest.Item):
    """Base of the items that report remote facts rather than run local code."""

    #: Where a person sees what went wrong, once it has.
    link: str | None = None

    def __init__(self, *, markers: tuple[pytest.MarkDecorator, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for marker in markers:
            self.add_marker(marker)

    @property
    def awaits(self) -> CaseId | None:
        """The case whose verdict the item waits for, if it waits for one."""
        return None

    @property
    def run_key(self) -> tuple[str, str]:
        """The run it reports on: its provider's name and its id."""
        raise NotImplementedError

    @property
    def live(self) -> LiveRuns:
        """The runs as the background wait learns them; only where the item runs."""
        return self.config.stash[LIVE_RUNS]


class RemoteCaseItem(RemoteItem):
    """A remote case. It waits for its own case's verdict when it runs, and reports it."""

    #: The case in words, kept only where it shows (not for a pass: 10,000 of them add up).
    rendered: Rendered | None = None

    def __init__(self, *, run: RunSnapshot, case: Listed, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: The run and the case as laid out (the run's snapshot is shared by its items).
        self.run = run
        self.listed = case
        #: The case's verdict, once it has one, and its run as known then.
        self.case: RemoteCase | None = None
        self.facts: RunFacts | None = None

    @property
    def verdict_phase(self) -> str:
        """The test phase whose report carries the remote verdict (and the remote duration)."""
        if self.case is None or self.case.outcome in (Outcome.ERROR, Outcome.SKIPPED):
            return "setup"
        return "call"

    @property
    def awaits(self) -> CaseId | None:
        if self.case is not None:
            return None
        return self.run.provider, self.run.run_id, self.listed.key

    @property
    def run_key(self) -> tuple[str, str]:
        return self.run.provider, self.run.run_id

    def learn_verdict(self) -> None:
        """Wait for the case's verdict, and take it in."""
        run, listed = self.live.verdict((self.run.provider, self.run.run_id, self.listed.key))
        case = listed.verdict if listed is not None else None
        if case is None:
            case = self.listed.without_verdict(no_verdict(run.report, self.live.failure))
        self.case = case
        self.facts = facts = run.facts()
        rendered = render_case(facts, case, trace_style(self.config))
        self.user_properties.extend(rendered.properties)
        if case.name != self.name:
            self.user_properties.append(("case_name", case.name))
        for title, text in rendered.sections:
            self.add_report_section(self.verdict_phase, title, text)
        if case.outcome is not Outcome.PASSED:
            self.rendered = rendered
            self.link = case_link(facts, case)

    def setup(self) -> None:
        if self.case is None:
            self.learn_verdict()
        assert self.case is not None
        if self.case.outcome is Outcome.ERROR:
            assert self.rendered is not None
            raise RemoteVerdict(self.rendered)
        if self.case.outcome is Outcome.SKIPPED:
            assert self.rendered is not None
            pytest.skip(self.rendered.headline)

    def rerun_reports(self) -> list[pytest.TestReport]:
        """A report per earlier attempt at the case that failed or gave no verdict, as
        pytest-rerunfailures shows a rerun: ``R``, and "N rerun" at the end. A skip that a rerun
        ran again is no failure rerun, as pytest-rerunfailures reruns none."""
        assert self.case is not None
        assert self.facts is not None
        reports = []
        earlier = attempt_lines(self.facts, self.case)[:-1]
        for attempt, line in zip(self.case.attempts, earlier, strict=True):
            if not attempt.outcome.fails:
                continue
            report = pytest.TestReport(
                self.nodeid,
                self.location,
                dict.fromkeys(self.keywords, 1),
                "failed",
                line,
                "call",
                qatech_rerun=True,
            )
            report.outcome = RERUN  # type: ignore[assignment]  # pytest-rerunfailures' outcome
            reports.append(report)
        return reports

    def runtest(self) -> None:
        if self.case is not None and self.case.outcome is Outcome.FAILED:
            assert self.rendered is not None
            raise RemoteFailure(self.rendered)


class RunProblemItem(RemoteItem):
    """Stands for a run that ended badly or could not be read, so that it never yields a green
    session."""

    def __init__(self, *, report: RunReport, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report = report

    @property
    def awaits(self) -> CaseId | None:
        # Its moment is its run's end: after the run's cases.
        return self.report.provider, self.report.run_id, None

    @property
    def run_key(self) -> tuple[str, str]:
        return self.report.provider, self.report.run_id

    def setup(self) -> None:
        self.link = self.report.url
        raise RemoteVerdict(render_problem(self.report))

    def runtest(self) -> None:  # pragma: no cover - setup always raises
        raise AssertionError("unreachable")


class SkippedSourceItem(RemoteNode, pytest.Item):
    """A platform whose runs were skipped, its credentials missing (``--qatech-missing-token
    skip``): one skipped test whose reason names the variables, so that the terminal and JUnit
    show that the remote part did not run. It waits for nothing: unlike a remote item, it runs
    wherever it is collected, an xdist worker too."""

    def __init__(self, *, source: SkippedSource, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        for marker in (getattr(pytest.mark, source.provider), pytest.mark.remote):
            self.add_marker(marker)
        self.add_marker(pytest.mark.skip(reason=skipped_reason(source)))

    @classmethod
    def laid_out(
        cls, session: pytest.Session, skipped: Iterable[SkippedSource]
    ) -> list[SkippedSourceItem]:
        return [
            cls.from_parent(
                session,
                name=SKIPPED_ITEM_NAME,
                nodeid=skipped_nodeid(source.provider),
                source=source,
            )
            for source in skipped
        ]

    def runtest(self) -> None:  # pragma: no cover - its skip marker skips it
        raise AssertionError("unreachable")


def _verdict_repr(node: Node, excinfo: pytest.ExceptionInfo[BaseException]) -> TerminalRepr | None:
    """A remote verdict's words as a report shows them, for every phase and for collection
    alike; None for any other exception. pytest formats an error in setup (how a remote error
    is raised) through ``_repr_failure_py``, not ``repr_failure``: overriding it makes this the
    one place both lead to, and spares the Python traceback of the plugin's own frames (about
    60 ms a case, to be thrown away: ``benchmarks/run.py --only-errors``). With ``--tb=line`` a
    failure shows only its crash line (``<node id>: <headline>``), and an error only that line
    too."""
    verdict = excinfo.value
    if not isinstance(verdict, RemoteVerdict):
        return None
    rendered = verdict.rendered
    if node.config.option.tbstyle == "line":
        failure = isinstance(verdict, RemoteFailure)
        lines = [] if failure else [f"{node.nodeid}: {first_line(rendered.headline)}\n"]
    else:
        lines = [line + "\n" for line in rendered.text.split("\n")]
    return ReprExceptionInfo(
        reprtraceback=ReprTracebackNative(lines),
        reprcrash=NodeLocation(node.nodeid, 0, rendered.headline),
    )


def _location(node: Node) -> tuple[str, int, str]:
    # No source file stands behind a remote node. The path is the provider's name, as in the
    # progress line ("qatech ..F.s"). The domain titles the failure section; it must not be a
    # suffix of the node id, or pytest -v rewrites its dots into "::".
    provider, _, rest = node.nodeid.partition("::")
    return provider, 0, f"{provider} {rest.replace('::', ': ', 1)}"
