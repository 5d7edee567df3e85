"""Where each remote run and case appears: node ids, collectors and JUnit classnames.

Both front ends lay runs out by these rules: a group per run, or per group of runs where the
platform groups them (an Autonoma folder); an entry per case, and one more for a run that ended
badly, each with a name that is safe in a node id and unique in its group. Node ids are
``<provider>::<group>::<name>``, JUnit classnames ``<provider>.<group>``.

A case keeps its identity from one day's run to the next, so that CI tools that track tests
by classname and name (and ``--lf``) see the same test: a group is named by a platform's folder,
else by the run's label (``--qatech-run staging=abc123``, or the test plan of a run started
here), else, for the only run of its platform in the session, not at all (``qatech::<name>``,
classname ``qatech``); only several unnamed runs of one platform are told apart by their ids.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from pytest_qatech.core.models import Listed, RunSnapshot, UnreadableRun
from pytest_qatech.core.text import one_line

#: The entry that stands for a run that ended badly (``qatech::abc123::(run)``).
RUN_ITEM_NAME = "(run)"
#: The one item of a platform whose runs were skipped, its credentials missing
#: (``qatech::(missing credentials)``); its JUnit classname is the platform's name.
SKIPPED_ITEM_NAME = "(missing credentials)"


def skipped_nodeid(provider: str) -> str:
    """The node id of a platform's one skipped item: ``qatech::(missing credentials)``."""
    return f"{provider}::{SKIPPED_ITEM_NAME}"


MAX_NAME_LENGTH = 200
_COLONS = re.compile(r":{2,}")

#: The name wanted for a case of a run, before it is made safe and unique.
NameOf = Callable[[Listed, str], str]


def own_name(case: Listed, run_id: str) -> str:
    return case.name


@dataclass(frozen=True, slots=True)
class Entry:
    """An item: a case of a run, or (``case`` None) the run's problem."""

    #: The node id of the entry's group: one string object for all of them.
    parent: str
    name: str
    #: The run as known when the entry was laid out.
    run: RunSnapshot
    case: Listed | None

    @property
    def nodeid(self) -> str:
        return f"{self.parent}::{self.name}"


@dataclass(frozen=True, slots=True)
class Group:
    """A collector: one run, or the runs of one platform group (``folder``). Its ``name`` is
    empty for the only run of its platform: its items are then ``<provider>::<case>``."""

    provider: str
    name: str
    runs: tuple[RunSnapshot, ...]
    folder: bool = False

    @property
    def nodeid(self) -> str:
        return f"{self.provider}::{self.name}" if self.name else self.provider

    @property
    def classname(self) -> str:
        return f"{self.provider}.{self.name}" if self.name else self.provider

    @property
    def unreadable(self) -> list[UnreadableRun]:
        return [run.report for run in self.runs if isinstance(run.report, UnreadableRun)]

    def entries(self, name_of: NameOf = own_name, earlier: Iterable[Entry] = ()) -> list[Entry]:
        """The group's items, in order: each case of each run as listed so far, then each
        problem of a run (it ended badly, or could not be read).

        ``name_of(case, run_id)`` is the name wanted for a case before it is made safe. Entries
        laid out ``earlier`` are left out, and their names are not given again: a case listed
        late gets a name of its own.
        """
        earlier = list(earlier)
        known = {(e.run.run_id, e.case.key) for e in earlier if e.case is not None}
        problems = [
            (RUN_ITEM_NAME if not self.folder else f"(run {run.run_id})", run)
            for run in self.runs
            if run.ended_badly
        ]
        taken = {RUN_ITEM_NAME, *(name for name, _ in problems), *(e.name for e in earlier)}
        pairs = [
            (run, case)
            for run in self.runs
            for case in run.cases or ()
            if (run.run_id, case.key) not in known
        ]
        names = unique_names((name_of(case, run.run_id) for run, case in pairs), taken)
        parent = self.nodeid
        entries = [
            Entry(parent, name, run, case) for name, (run, case) in zip(names, pairs, strict=True)
        ]
        done = {e.name for e in earlier}
        entries += [Entry(parent, name, run, None) for name, run in problems if name not in done]
        return entries


def groups(runs: Iterable[RunSnapshot]) -> list[Group]:
    """The groups of these runs, in order: a group per run, or per platform group of runs."""
    runs = list(runs)
    per_platform = Counter(run.provider for run in runs)
    members: dict[tuple[str, str, bool], list[RunSnapshot]] = {}
    for run in runs:
        # A run that could not be read is an error of its own, never in a group.
        group = None if isinstance(run.report, UnreadableRun) else run.group
        if group is not None:
            name = display_name(group)
        elif run.label is not None:
            name = run.label
        else:
            name = "" if per_platform[run.provider] == 1 else run.run_id
        members.setdefault((run.provider, name, group is not None), []).append(run)
    return [
        Group(provider, name, tuple(runs), folder)
        for (provider, name, folder), runs in members.items()
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
