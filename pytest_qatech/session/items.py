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

from pytest_qatech.core.models import FinishedRun, Outcome, RemoteCase
from pytest_qatech.core.naming import Group, NameOf
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

    def __init__(self, *, group: Group, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.group = group

    @classmethod
    def for_groups(cls, session: pytest.Session, groups: Iterable[Group]) -> list[RunCollector]:
        return [
            cls.from_parent(session, name=group.name, nodeid=group.nodeid, group=group)
            for group in groups
        ]

    def collect(self) -> Iterable[pytest.Item]:
        for report in self.group.unreadable:
            raise RemoteVerdict(Rendered(visible(report.message)))
        # The same marker objects for all the items: with 10,000 cases, one each adds up.
        markers = (getattr(pytest.mark, self.group.provider), pytest.mark.remote)
        items: list[pytest.Item] = []
        problems: list[pytest.Item] = []
        for entry in self.group.entries(item_names(self.session)):
            if entry.case is None:
                problems.append(
                    RunProblemItem.from_parent(
                        self, name=entry.name, run=entry.run, markers=markers
                    )
                )
                continue
            item = RemoteCaseItem.from_parent(
                self, name=entry.name, run=entry.run, case=entry.case, markers=markers
            )
            self.ihook.pytest_qatech_modify_item(item=item, case=item.case)
            items.append(item)
        return items + problems

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
        self, *, run: FinishedRun, markers: tuple[pytest.MarkDecorator, ...], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.run = run
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
    #: The case in words, kept only where it shows (not for a pass: 10,000 of them add up).
    rendered: Rendered | None = None

    def __init__(self, *, case: RemoteCase, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        rendered = render_case(self.run, case)
        if self.case.outcome is not Outcome.PASSED:
            self.rendered = rendered
        self.user_properties.extend(rendered.properties)
        if self.case.name != self.name:
            self.user_properties.append(("case_name", self.case.name))
        if self.case.outcome is Outcome.SKIPPED:
            # A mark, not pytest.skip(): reported at the item's location, not at this file's.
            self.add_marker(pytest.mark.skip(reason=rendered.headline))
        for title, text in rendered.sections:
            self.add_report_section(self.verdict_phase, title, text)

    @property
    def verdict_phase(self) -> str:
        """The test phase whose report carries the remote verdict (and the remote duration)."""
        return "setup" if self.case.outcome in (Outcome.ERROR, Outcome.SKIPPED) else "call"

    def setup(self) -> None:
        if self.case.outcome is Outcome.ERROR:
            assert self.rendered is not None
            raise RemoteVerdict(self.rendered)

    def runtest(self) -> None:
        if self.case.outcome is Outcome.FAILED:
            assert self.rendered is not None
            raise RemoteVerdict(self.rendered)


class RunProblemItem(RemoteItem):
    """Stands for a run that ended badly, so that it never yields a green session."""

    def setup(self) -> None:
        raise RemoteVerdict(render_problem(self.run))

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
