"""A test plan's cases as the last session that ran the plan saw them, and which of them a run
started from the plan names when pytest's selection leaves only some.

A run lists its cases only once it is going; for ``-k``, ``-m``, ``--lf``, ``--deselect`` and
node ids to choose among a plan's cases before its run starts, a session keeps each plan's cases
in pytest's cache when a run of it ends: their names, and their project test case ids
(``projectTestCaseId``) where the cases' details gave them. A run of the whole plan replaces
the list; a narrowed run only adds what it learnt. The Start Run API takes the chosen ids as
``testCaseIds`` beside ``testPlanShortId``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pytest_qatech.core.models import FinishedRun, Listed, RunSnapshot
from pytest_qatech.core.options import QATECH

#: Where pytest's cache keeps a plan's cases (``qatech/plans/<plan short id>``).
CACHE_KEY = "qatech/plans/"


@dataclass(frozen=True, slots=True)
class KnownCase:
    name: str
    #: Its project test case id, when a case's details (or the project's test cases) gave it.
    case_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlanCases:
    """A plan's cases, in the order its last run listed them."""

    plan: str
    cases: tuple[KnownCase, ...]
    #: The run that last told them, and when it ended (ISO 8601, UTC): how fresh they are.
    run_id: str
    seen: str

    def snapshot(self, places: Sequence[int] | None = None) -> RunSnapshot:
        """The cases as a run's (those at ``places``, if given), under the node ids a run of the
        plan gives them: to select among before the start, and for ``--collect-only`` to list
        what a start would run. Nothing waits for it."""
        listed = tuple(
            Listed(f"#{place}", case.name)
            for place, case in enumerate(self.cases)
            if places is None or place in places
        )
        return RunSnapshot(QATECH.name, self.plan, cases=listed, label=self.plan)

    def names(self, places: Sequence[int]) -> list[str]:
        return [self.cases[place].name for place in places]


def stand_in(plan: str, listed: Mapping[str, Sequence[str]]) -> PlanCases:
    """The project's test cases (their ids by name) in the place of a plan's cases that no
    session here has seen: a selection that takes none of them takes none of the plan's."""
    cases = tuple(
        KnownCase(name, ids[0] if len(set(ids)) == 1 else None) for name, ids in listed.items()
    )
    return PlanCases(plan, cases, "", "")


def learnt(
    plan: str, known: PlanCases | None, run: FinishedRun, *, whole: bool, seen: str
) -> PlanCases:
    """What is known of ``plan``'s cases once its ``run`` ended: its cases (all of the plan's
    when it ran the ``whole`` plan, else those known before with what it taught), each with its
    id."""
    ids = {case.name: case.case_id for case in known.cases} if known is not None else {}
    ran = {case.name: case.project_case_id or ids.get(case.name) for case in run.cases}
    if whole or known is None:
        cases = tuple(KnownCase(name, case_id) for name, case_id in ran.items())
    else:
        kept = tuple(KnownCase(c.name, ran.get(c.name) or c.case_id) for c in known.cases)
        new = tuple(KnownCase(name, case_id) for name, case_id in ran.items() if name not in ids)
        cases = kept + new
    return PlanCases(plan, cases, run.run_id, seen)


@dataclass(frozen=True, slots=True)
class Selection:
    """What pytest selected of a plan's known cases: their places in ``known``; and the names
    node ids asked for that no known case has (``qatech::<plan>::<name>``)."""

    known: PlanCases
    places: tuple[int, ...]
    unknown: tuple[str, ...] = ()
    #: ``known`` stands in for cases no session here has seen: the project's test cases.
    stand_in: bool = False

    @property
    def everything(self) -> bool:
        """Whether every known case was selected: the start is of the whole plan."""
        return len(set(self.places)) == len(self.known.cases)

    def missing_ids(self) -> list[str]:
        """The names of the selected cases whose ids are not known, unless all are selected."""
        if self.everything:
            return []
        return [self.known.cases[p].name for p in self.places if not self.known.cases[p].case_id]


@dataclass(frozen=True, slots=True)
class Choice:
    """What a start of a plan names, once pytest selected among its known cases."""

    plan: str
    #: The project test case ids to start (empty: start nothing); None: the whole plan.
    case_ids: tuple[str, ...] | None
    #: How many of the plan's known cases were selected, of how many.
    selected: int
    known: int
    #: The selected cases whose id is not known: the whole plan runs rather than drop them.
    unmapped: tuple[str, ...] = ()
    #: Why the platform refused the narrowed start, when it did. The project's test cases were
    #: read again then: the selected cases ``gone`` from them, and why they could not be read
    #: (``recheck``), if they could not. ``case_ids`` is then what was started in its stead.
    refused: str | None = None
    gone: tuple[str, ...] = ()
    recheck: str | None = None


def choose(selection: Selection, found: Mapping[str, str]) -> Choice:
    """The start of a plan when pytest selected ``selection`` of its cases; ``found`` gives
    more ids by name (the project's test cases)."""
    known, places = selection.known, selection.places
    total = len(known.cases)
    if selection.everything:
        return Choice(known.plan, None, total, total)
    chosen = [known.cases[place] for place in places]
    ids = [case.case_id or found.get(case.name) for case in chosen]
    unmapped = tuple(case.name for case, case_id in zip(chosen, ids, strict=True) if not case_id)
    if unmapped:
        return Choice(known.plan, None, len(chosen), total, unmapped)
    return Choice(known.plan, tuple(dict.fromkeys(i for i in ids if i)), len(chosen), total)


def not_found(plan: str, name: str, candidates: Sequence[str]) -> str:
    """A node id naming a case of ``plan`` that neither the plan's known cases nor the
    project's test cases have: with the closest names, as pytest offers for a fixture."""
    message = (
        f"not found: {QATECH.name}::{plan}::{name} (no case of test plan {plan}, nor any test "
        f"case of the project, has this name"
    )
    closest = difflib.get_close_matches(name, sorted(set(candidates)))  # at most 3
    if closest:
        message += "; the closest: " + ", ".join(repr(other) for other in closest)
    return message + "): nothing was started"
