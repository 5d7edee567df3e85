"""The pytest nodes: a collector per remote run and an item per remote case.

Node ids are ``<provider>::<run id>::<case name>`` (``<provider>::<folder>::<test name>`` for
platforms that group runs in folders), so ``-k``, ``-m``, ``--deselect``, ``--lf`` and JUnit's
classname (``qatech.<run id>``) all work as they do for local tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
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

from pytest_qatech.models import FinishedRun, Outcome, RemoteCase, RunReport, UnreadableRun
from pytest_qatech.reporting import visible

if TYPE_CHECKING:
    from _pytest._code.code import TracebackStyle

RUN_ITEM_NAME = "(run)"
MAX_NAME_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_COLONS = re.compile(r":{2,}")


class RemoteVerdict(Exception):
    """Raised by a remote item to report what the platform said, without a Python traceback."""

    def __init__(self, headline: str, details: str) -> None:
        super().__init__(headline)
        self.headline = headline
        self.details = details


def verdict_repr(where: str, headline: str, details: str) -> ReprExceptionInfo:
    headline, details = visible(headline), visible(details)
    text = headline if not details else f"{headline}\n\n{details}"
    return ReprExceptionInfo(
        reprtraceback=ReprTracebackNative([line + "\n" for line in text.split("\n")]),
        reprcrash=ReprFileLocation(where, 0, headline),
    )


class RunCollector(pytest.Collector):
    """A remote run, whose children are its cases; or, where the platform groups runs (an
    Autonoma folder), the runs of one group, whose children are their cases."""

    def __init__(self, *, reports: tuple[RunReport, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reports = reports

    @classmethod
    def for_reports(
        cls, session: pytest.Session, reports: Iterable[RunReport]
    ) -> list[RunCollector]:
        """The collectors for these runs, in order: one per run, or one per group of runs."""
        collectors = []
        for provider, name, members in run_groups(reports):
            collector: RunCollector = cls.from_parent(
                session, name=name, nodeid=f"{provider}::{name}", reports=members
            )
            collectors.append(collector)
        return collectors

    def collect(self) -> Iterable[pytest.Item]:
        runs: list[FinishedRun] = []
        for report in self.reports:
            if isinstance(report, UnreadableRun):
                raise RemoteVerdict(report.message, "")
            runs.append(report)
        named_cases, named_problems = item_names(runs, self.name, self._name)
        # The same marker objects for all the items: with 10,000 cases, one each adds up.
        markers = (getattr(pytest.mark, self.reports[0].provider), pytest.mark.remote)
        cases = [
            RemoteCaseItem.from_parent(self, name=name, run=run, markers=markers, case=case)
            for name, run, case in named_cases
        ]
        for item in cases:
            self.ihook.pytest_qatech_modify_item(item=item, case=item.case)
        items: list[pytest.Item] = [*cases]
        items += [
            RunProblemItem.from_parent(self, name=name, run=run, markers=markers)
            for name, run in named_problems
        ]
        return items

    def _name(self, case: RemoteCase, run_id: str) -> str:
        chosen = self.ihook.pytest_qatech_item_name(case=case, run_id=run_id)
        return chosen if isinstance(chosen, str) else case.name

    def repr_failure(  # type: ignore[override]  # as pytest's own Collector.repr_failure
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, RemoteVerdict):
            if hasattr(self.config, "workerinput"):
                # xdist shows a collection error once only if every worker's copy compares
                # equal, which plain text does.
                return str(excinfo.value)
            return verdict_repr(self.nodeid, excinfo.value.headline, excinfo.value.details)
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

    def verdict_repr(self, verdict: RemoteVerdict) -> ReprExceptionInfo:
        return verdict_repr(self.nodeid, verdict.headline, verdict.details)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: TracebackStyle | None = None,
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, RemoteVerdict):
            return self.verdict_repr(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[str, int, str]:
        return _location(self)


class RemoteCaseItem(RemoteItem):
    def __init__(self, *, case: RemoteCase, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.user_properties.extend(case.properties)
        if case.name != self.name:
            self.user_properties.append(("case_name", case.name))
        if case.outcome is Outcome.SKIPPED:
            # A mark, not pytest.skip(): reported at the item's location, not at this file's.
            self.add_marker(pytest.mark.skip(reason=case.headline))
        for title, text in case.sections:
            self.add_report_section(self.verdict_phase, title, visible(text))

    @property
    def verdict_phase(self) -> str:
        """The test phase whose report carries the remote verdict (and the remote duration)."""
        return "setup" if self.case.outcome in (Outcome.ERROR, Outcome.SKIPPED) else "call"

    def setup(self) -> None:
        if self.case.outcome is Outcome.ERROR:
            raise RemoteVerdict(self.case.headline, self.case.details)

    def runtest(self) -> None:
        if self.case.outcome is Outcome.FAILED:
            raise RemoteVerdict(self.case.headline, self.case.details)


class RunProblemItem(RemoteItem):
    """Stands for a run that ended badly, so that it never yields a green session."""

    def setup(self) -> None:
        assert self.run.problem is not None
        raise RemoteVerdict(self.run.problem, tally_sentence(self.run))

    def runtest(self) -> None:  # pragma: no cover - setup always raises
        raise AssertionError("unreachable")


def run_groups(reports: Iterable[RunReport]) -> list[tuple[str, str, tuple[RunReport, ...]]]:
    """(provider, collector name, runs) in order: a collector per run, or per group of runs."""
    groups: dict[tuple[str, str, bool], list[RunReport]] = {}
    for report in reports:
        group = report.group if isinstance(report, FinishedRun) else None
        name = display_name(group) if group is not None else report.run_id
        # A run that could not be read is a collection error of its own, never in a group.
        groups.setdefault((report.provider, name, group is not None), []).append(report)
    return [(provider, name, tuple(members)) for (provider, name, _), members in groups.items()]


def item_names(
    runs: Sequence[FinishedRun],
    collector: str,
    name_of: Callable[[RemoteCase, str], str] = lambda case, run_id: case.name,
) -> tuple[list[tuple[str, FinishedRun, RemoteCase]], list[tuple[str, FinishedRun]]]:
    """The items of a collector: (name, run, case) for each case and (name, run) for each run
    with a problem, their names unique in the collector.

    ``name_of(case, run_id)`` is the name wanted for a case before it is made safe.
    """
    problems = [
        (RUN_ITEM_NAME if run.run_id == collector else f"(run {run.run_id})", run)
        for run in runs
        if run.problem
    ]
    pairs = [(run, case) for run in runs for case in run.cases]
    names = unique_names(
        (name_of(case, run.run_id) for run, case in pairs),
        reserved={RUN_ITEM_NAME, *(name for name, _ in problems)},
    )
    cases = [(name, run, case) for name, (run, case) in zip(names, pairs, strict=True)]
    return cases, problems


def unique_names(names: Iterable[str], reserved: Iterable[str] = ()) -> Iterator[str]:
    """Safe, distinct node names, in the given order, in linear time."""
    taken = set(reserved)
    next_suffix: dict[str, int] = {}
    for raw in names:
        base = display_name(raw)
        name = base
        while name in taken:
            suffix = next_suffix.get(base, 2)
            next_suffix[base] = suffix + 1
            name = f"{base} ({suffix})"
        taken.add(name)
        yield name


def display_name(raw: str) -> str:
    """A case name that keeps node ids, ``--lf`` and terminals intact.

    ``[`` and ``]`` would read as parametrisation and ``::`` as a node separator.
    """
    name = _CONTROL.sub(" ", raw)
    name = _COLONS.sub(":", name.replace("[", "(").replace("]", ")"))
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        name = name[: MAX_NAME_LENGTH - 1].rstrip() + "…"
    return name or "unnamed case"


def tally_sentence(run: FinishedRun) -> str:
    noun = "case" if len(run.cases) == 1 else "cases"
    tally = run.tally()
    return f"The run reported {len(run.cases)} {noun}" + (f": {tally}." if tally else ".")


def _location(node: pytest.Item | pytest.Collector) -> tuple[str, int, str]:
    # No source file stands behind a remote node. The path is the provider's name, as in the
    # progress line ("qatech ..F.s"). The domain titles the failure section; it must not be a
    # suffix of the node id, or pytest -v rewrites its dots into "::".
    provider, _, rest = node.nodeid.partition("::")
    return provider, 0, f"{provider} {rest.replace('::', ': ', 1)}"
