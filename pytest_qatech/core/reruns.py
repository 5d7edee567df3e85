"""A run and the reruns of its failed cases, as one run: each case's verdict is its last attempt's.

A rerun is a new run with new case ids (QA.tech's Rerun API: the failed, skipped and errored
cases, or the execution misses alone), so its cases are matched back to the run's by name and
goal, in order, among those the rerun may have run again. A case of the rerun that matches none
is reported as a case of its own, never dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

from pytest_qatech.core.models import (
    Attempt,
    FinishedRun,
    RemoteCase,
    RunReport,
    StartedRun,
    has_failure,
)
from pytest_qatech.core.options import MAX_FLAKY
from pytest_qatech.core.text import counted, visible


def wants_rerun(attempt: FinishedRun) -> bool:
    """Whether an attempt has cases a rerun could turn: a failure, or a case without verdict."""
    return has_failure(attempt.cases)


def merged(
    earlier: FinishedRun,
    rerun: FinishedRun,
    started: StartedRun,
    again: Callable[[RemoteCase], bool],
) -> tuple[FinishedRun, list[RemoteCase]]:
    """``earlier`` (a run, with the reruns so far) with the cases of ``rerun`` as its cases'
    latest attempts, among those ``again`` says the rerun may have run; and the cases of
    ``rerun`` that matched none, which it keeps as its own.

    The run's status and problem become the rerun's: the rerun is the run's last word. So does
    its result, unless the rerun passed while a case it did not run still fails: then the result
    stays the earlier one's, as the cases' final verdicts say.
    """
    rerun_of: dict[tuple[str, str | None], list[RemoteCase]] = {}
    for case in rerun.cases:
        rerun_of.setdefault((case.name, case.goal), []).append(case)
    cases = []
    for case in earlier.cases:
        candidates = rerun_of.get((case.name, case.goal)) if again(case) else None
        if not candidates:
            cases.append(case)
            continue
        latest = candidates.pop(0)
        before = Attempt(
            earlier.run_of(case),
            case.outcome,
            case.headline,
            case.explanation,
            case.steps,
            case.steps_total,
        )
        cases.append(dataclasses.replace(latest, key=case.key, attempts=(*case.attempts, before)))
    unmatched = [case for left in rerun_of.values() for case in left]
    own = [dataclasses.replace(case, key=f"{rerun.run_id}/{case.key}") for case in unmatched]
    final = (*cases, *own)
    # A rerun that passed does not pass the run while a case it did not run still fails.
    result = earlier.result if has_failure(final) and not has_failure(rerun.cases) else rerun.result
    run = dataclasses.replace(
        earlier,
        status=rerun.status,
        result=result,
        problem=rerun.problem,
        cases=final,
        reruns=(*earlier.reruns, started),
    )
    return run, unmatched


def flaky(reports: Iterable[RunReport]) -> list[tuple[FinishedRun, RemoteCase]]:
    """The flaky cases of these reports, each with its run, in order."""
    return [
        (report, case)
        for report in reports
        if isinstance(report, FinishedRun)
        for case in report.cases
        if case.flaky
    ]


def too_flaky(flaky: Sequence[str], most: int | None) -> str | None:
    """What fails a session with more ``flaky`` cases (node ids) than ``most`` allows, naming
    them; None within the limit, or without one."""
    if most is None or len(flaky) <= most:
        return None
    return (
        f"{counted(len(flaky), 'flaky case')}, more than {MAX_FLAKY.flag} {most} allows: "
        + ", ".join(visible(nodeid) for nodeid in flaky)
    )
