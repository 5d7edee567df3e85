"""Where each remote run and case appears: node ids, collectors and JUnit classnames.

Both front ends lay runs out by these rules: a group per run, or per group of runs where the
platform groups them (an Autonoma folder); an entry per case, and one more for a run that ended
badly, each with a name that is safe in a node id and unique in its group. Node ids are
``<provider>::<group>::<name>``, JUnit classnames ``<provider>.<group>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from pytest_qatech.core.models import FinishedRun, RemoteCase, RunReport, UnreadableRun
from pytest_qatech.core.text import one_line

#: The entry that stands for a run that ended badly (``qatech::abc123::(run)``).
RUN_ITEM_NAME = "(run)"
MAX_NAME_LENGTH = 200
_COLONS = re.compile(r":{2,}")

#: The name wanted for a case of a run, before it is made safe and unique.
NameOf = Callable[[RemoteCase, str], str]


def own_name(case: RemoteCase, run_id: str) -> str:
    return case.name


@dataclass(frozen=True, slots=True)
class Entry:
    """An item: a case of a run, or (``case`` None) the run's problem."""

    #: The node id of the entry's group: one string object for all of them.
    parent: str
    name: str
    run: FinishedRun
    case: RemoteCase | None

    @property
    def nodeid(self) -> str:
        return f"{self.parent}::{self.name}"

    @property
    def link(self) -> str | None:
        """Where a person sees it: the case's page, else its run's."""
        page = self.case.link("case") if self.case is not None else None
        return page or self.run.url


@dataclass(frozen=True, slots=True)
class Group:
    """A collector: one run, or the runs of one platform group."""

    provider: str
    name: str
    reports: tuple[RunReport, ...]

    @property
    def nodeid(self) -> str:
        return f"{self.provider}::{self.name}"

    @property
    def classname(self) -> str:
        return f"{self.provider}.{self.name}"

    @property
    def unreadable(self) -> list[UnreadableRun]:
        return [report for report in self.reports if isinstance(report, UnreadableRun)]

    @property
    def finished(self) -> list[FinishedRun]:
        return [report for report in self.reports if isinstance(report, FinishedRun)]

    def entries(self, name_of: NameOf = own_name) -> list[Entry]:
        """The group's items, in order: each case of each finished run, then each run's problem.

        ``name_of(case, run_id)`` is the name wanted for a case before it is made safe.
        """
        runs = self.finished
        problems = [
            (RUN_ITEM_NAME if run.run_id == self.name else f"(run {run.run_id})", run)
            for run in runs
            if run.problem
        ]
        pairs = [(run, case) for run in runs for case in run.cases]
        names = unique_names(
            (name_of(case, run.run_id) for run, case in pairs),
            reserved={RUN_ITEM_NAME, *(name for name, _ in problems)},
        )
        parent = self.nodeid
        entries = [
            Entry(parent, name, run, case) for name, (run, case) in zip(names, pairs, strict=True)
        ]
        entries += [Entry(parent, name, run, None) for name, run in problems]
        return entries


def groups(reports: Iterable[RunReport]) -> list[Group]:
    """The groups of these runs, in order: a group per run, or per platform group of runs."""
    members: dict[tuple[str, str, bool], list[RunReport]] = {}
    for report in reports:
        group = report.group if isinstance(report, FinishedRun) else None
        name = display_name(group) if group is not None else report.run_id
        # A run that could not be read is a collection error of its own, never in a group.
        members.setdefault((report.provider, name, group is not None), []).append(report)
    return [
        Group(provider, name, tuple(reports)) for (provider, name, _), reports in members.items()
    ]


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
    """A name that keeps node ids, ``--lf`` and terminals intact.

    ``[`` and ``]`` would read as parametrisation and ``::`` as a node separator.
    """
    name = _COLONS.sub(":", one_line(raw).replace("[", "(").replace("]", ")"))
    if len(name) > MAX_NAME_LENGTH:
        name = name[: MAX_NAME_LENGTH - 1].rstrip() + "…"
    return name or "unnamed case"
