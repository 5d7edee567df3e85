"""The pytest nodes: a collector per remote run (or group of runs) and an item per remote case.

Node ids are ``<provider>::<run id>::<case name>`` (``<provider>::<folder>::<test name>`` for
platforms that group runs in folders), so ``-k``, ``-m``, ``--deselect``, ``--lf`` and JUnit's
classname (``qatech.<run id>``) all work as they do for local tests.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
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

from pytest_qatech.core.models import Outcome, RemoteCase
from pytest_qatech.core.naming import Entry, Group, NameOf
from pytest_qatech.core.rendering import Rendered, render_case, render_problem
from pytest_qatech.core.text import visible

if TYPE_CHECKING:
    from _pytest._code.code import TracebackStyle


class RemoteVerdict(Exception):
    """Raised by a remote node to report what the platform said, without a Python traceback."""

    def __init__(self, rendered: Rendered) -> None:
        super().__init__(rendered.headline)
        self.rendered = rendered


def verdict_repr(where: str, rendered: Rendered) -> ReprExceptionInfo:
    return ReprExceptionInfo(
        reprtraceback=ReprTracebackNative([line + "\n" for line in rendered.text.split("\n")]),
        reprcrash=ReprFileLocation(where, 0, rendered.headline),
    )


def item_names(session: pytest.Session) -> NameOf:
    """The names a project's ``pytest_qatech_item_name`` hook gives, else the cases' own."""

    def name_of(case: RemoteCase, run_id: str) -> str:
        chosen = session.ihook.pytest_qatech_item_name(case=case, run_id=run_id)
        return chosen if isinstance(chosen, str) else case.name

    return name_of


class RunCollector(pytest.Collector):
    """A remote run, whose children are its cases; or, where the platform groups runs (an
    Autonoma folder), the runs of one group, whose children are their cases."""

    def __init__(self, *, group: Group, entries: list[Entry], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.group = group
        self.entries = entries

    @classmethod
    def for_layout(
        cls, session: pytest.Session, layout: Iterable[tuple[Group, list[Entry]]]
    ) -> list[RunCollector]:
        return [
            cls.from_parent(
                session, name=group.name, nodeid=group.nodeid, group=group, entries=entries
            )
            for group, entries in layout
        ]

    def collect(self) -> Iterable[pytest.Item]:
        for report in self.group.unreadable:
            raise RemoteVerdict(Rendered(visible(report.message)))
        # The same marker objects for all the items: with 10,000 cases, one each adds up.
        markers = (getattr(pytest.mark, self.group.provider), pytest.mark.remote)
        cases = [
            RemoteCaseItem.from_parent(self, name=entry.name, entry=entry, markers=markers)
            for entry in self.entries
            if entry.case is not None
        ]
        for item in cases:
            self.ihook.pytest_qatech_modify_item(item=item, case=item.case)
        items: list[pytest.Item] = [*cases]
        items += [
            RunProblemItem.from_parent(self, name=entry.name, entry=entry, markers=markers)
            for entry in self.entries
            if entry.case is None
        ]
        return items

    def repr_failure(  # type: ignore[override]  # as pytest's own Collector.repr_failure
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, RemoteVerdict):
            if hasattr(self.config, "workerinput"):
                # xdist shows a collection error once only if every worker's copy compares
                # equal, which plain text does.
                return excinfo.value.rendered.text
            return verdict_repr(self.nodeid, excinfo.value.rendered)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int, str]:
        return _location(self)


class RemoteItem(pytest.Item):
    """Base of the items that report remote facts rather than run local code."""

    def __init__(
        self, *, entry: Entry, markers: tuple[pytest.MarkDecorator, ...], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        for marker in markers:
            self.add_marker(marker)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: TracebackStyle | None = None,
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, RemoteVerdict):
            return verdict_repr(self.nodeid, excinfo.value.rendered)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[str, int, str]:
        return _location(self)


class RemoteCaseItem(RemoteItem):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        assert self.entry.case is not None
        self.case: RemoteCase = self.entry.case
        self.rendered = render_case(self.entry.run, self.case)
        self.user_properties.extend(self.rendered.properties)
        if self.case.name != self.name:
            self.user_properties.append(("case_name", self.case.name))
        if self.case.outcome is Outcome.SKIPPED:
            # A mark, not pytest.skip(): reported at the item's location, not at this file's.
            self.add_marker(pytest.mark.skip(reason=self.rendered.headline))
        for title, text in self.rendered.sections:
            self.add_report_section(self.verdict_phase, title, text)

    @property
    def verdict_phase(self) -> str:
        """The test phase whose report carries the remote verdict (and the remote duration)."""
        return "setup" if self.case.outcome in (Outcome.ERROR, Outcome.SKIPPED) else "call"

    def setup(self) -> None:
        if self.case.outcome is Outcome.ERROR:
            raise RemoteVerdict(self.rendered)

    def runtest(self) -> None:
        if self.case.outcome is Outcome.FAILED:
            raise RemoteVerdict(self.rendered)


class RunProblemItem(RemoteItem):
    """Stands for a run that ended badly, so that it never yields a green session."""

    def setup(self) -> None:
        raise RemoteVerdict(render_problem(self.entry.run))

    def runtest(self) -> None:  # pragma: no cover - setup always raises
        raise AssertionError("unreachable")


class RemoteReports:
    """Shapes the test reports of remote items: their verdict's text and remote duration."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        # pytest asks the item for a repr only for the call phase; a remote error is raised in
        # setup (so it is an error, not a failure) and deserves the same readable text.
        if (
            isinstance(item, RemoteItem)
            and call.excinfo is not None
            and isinstance(call.excinfo.value, RemoteVerdict)
            and report.failed
        ):
            report.longrepr = verdict_repr(item.nodeid, call.excinfo.value.rendered)
        if isinstance(item, RemoteCaseItem) and item.case.duration is not None:
            # JUnit's time and --durations show how long the case took on the platform; the
            # moment spent here reporting it is not part of the test.
            report.duration = item.case.duration if report.when == item.verdict_phase else 0.0
        return report


def _location(node: pytest.Item | pytest.Collector) -> tuple[str, int, str]:
    # No source file stands behind a remote node. The path is the provider's name, as in the
    # progress line ("qatech ..F.s"). The domain titles the failure section; it must not be a
    # suffix of the node id, or pytest -v rewrites its dots into "::".
    provider, _, rest = node.nodeid.partition("::")
    return provider, 0, f"{provider} {rest.replace('::', ': ', 1)}"
