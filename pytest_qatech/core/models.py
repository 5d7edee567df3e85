"""What a remote run looks like, going or over, whatever platform ran it.

Providers turn their API's answers into these objects, and every front end reads only these.
A case carries its facts as fields (ids, links, error code, duration, ...); the text people read
and the JUnit properties are rendered from them at the edge (:mod:`pytest_qatech.core.rendering`).
They are plain frozen data, so that the xdist controller can hand them to its workers.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class Outcome(enum.Enum):
    """How a remote case is reported."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    # The case did not produce a trustworthy verdict: reported as an error, never a pass.
    ERROR = "error"

    @property
    def fails(self) -> bool:
        """Whether it makes a session red: a failure, or no verdict."""
        return self in (Outcome.FAILED, Outcome.ERROR)


@dataclass(frozen=True, slots=True)
class Link:
    """A web page or file about a case; ``kind`` says what it shows: ``case`` (its page),
    ``screenshot``, ``recording``, ``video``."""

    kind: str
    url: str


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the way a remote test went, as its platform reports it: an entry of
    QA.tech's agent trace (``GET /v1/run-test-case/{shortId}/trace``) or of Autonoma's
    ``steps``. Shown as pytest shows a frame of a traceback, the failing one last."""

    #: Its place in the whole trace, from 1.
    number: int
    #: How the step went, where the platform says (Autonoma: ``passed``, ``failed``).
    status: str | None = None
    #: What the agent meant to do (QA.tech's ``reasoning``, Autonoma's ``instruction``).
    intent: str | None = None
    #: What it did (QA.tech's ``toolCalls``, Autonoma's ``interaction``).
    action: str | None = None
    #: What came back (QA.tech's ``toolResult``, Autonoma's ``output``).
    result: str | None = None
    url: str | None = None
    selector: str | None = None
    screenshot: str | None = None
    #: Seconds it took, when the platform says.
    duration: float | None = None


#: How many of a long trace's first steps are kept, beside its last (where it failed).
FIRST_STEPS = 25


def kept_steps(steps: tuple[Step, ...], most: int) -> tuple[Step, ...]:
    """At most ``most`` of ``steps``: the first :data:`FIRST_STEPS`, then the last; the
    numbers of those kept say which were left out."""
    if len(steps) <= most:
        return steps
    first = min(FIRST_STEPS, most)
    return steps[:first] + steps[len(steps) - (most - first) :]


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file a run produced (TestVibe's manifest); ``problem`` is set for an entry that could
    not be read, and says why."""

    kind: str = ""
    path: str = ""
    size: int = 0
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """An earlier attempt at a case: its verdict in the run (the first, or a rerun) that gave
    it, and what that attempt's failure showed (a JUnit report keeps each attempt's)."""

    run_id: str
    outcome: Outcome
    headline: str = ""
    explanation: str = ""
    steps: tuple[Step, ...] | None = None
    steps_total: int | None = None


@dataclass(frozen=True, slots=True)
class RemoteCase:
    """One remote test case and its verdict.

    ``headline`` is the verdict in one line: the platform's title for a failure or a skip, or
    what was wrong when there is no verdict. ``explanation`` is the platform's longer account.
    """

    name: str
    outcome: Outcome
    headline: str = ""
    explanation: str = ""
    #: Who the case is within its run, the same in every answer about the run: a QA.tech
    #: case's short id, an Autonoma run's id, else its place in the run's list (``#2``).
    key: str = ""
    #: The platform's id of the case (a QA.tech case short id, an Autonoma test id).
    case_id: str | None = None
    #: The platform's id of the test the case runs, the same in every run (QA.tech's
    #: ``projectTestCaseId``, from the case's details): what a rerun of chosen cases names.
    project_case_id: str | None = None
    #: What the case set out to do (QA.tech's ``promptGoal``).
    goal: str | None = None
    error_code: str | None = None
    #: Seconds the case took on the platform, when it says.
    duration: float | None = None
    started_at: str | None = None
    completed_at: str | None = None
    links: tuple[Link, ...] = ()
    #: The steps the platform reported (those read, in order); None when it reported none it
    #: could be asked for.
    steps: tuple[Step, ...] | None = None
    #: How many steps the platform has, when more than were read (a long trace is read in
    #: part); None when ``steps`` is all of them.
    steps_total: int | None = None
    #: The attempts before this one, oldest first, when the case was rerun: the case's other
    #: fields are its last attempt's.
    attempts: tuple[Attempt, ...] = ()

    @property
    def first_failure(self) -> Attempt | None:
        """The first earlier attempt that failed or gave no verdict, if one did."""
        return next((attempt for attempt in self.attempts if attempt.outcome.fails), None)

    @property
    def flaky(self) -> bool:
        """It passed, after failing (or giving no verdict) in an earlier attempt."""
        return self.outcome is Outcome.PASSED and self.first_failure is not None

    def link(self, kind: str) -> str | None:
        return next((link.url for link in self.links if link.kind == kind), None)


def tally(outcomes: Iterable[Outcome]) -> str:
    """How many of each outcome, e.g. ``2 passed, 1 failed``; empty when there are none."""
    counts = dict.fromkeys(Outcome, 0)
    for outcome in outcomes:
        counts[outcome] += 1
    # As pytest counts them: "2 errors", but "2 passed", "2 failed", "2 skipped".
    return ", ".join(
        f"{n} {outcome.value}{'s' if outcome is Outcome.ERROR and n != 1 else ''}"
        for outcome, n in counts.items()
        if n
    )


def has_failure(cases: Iterable[RemoteCase]) -> bool:
    """Whether a case failed or gave no verdict: what makes a session red."""
    return any(case.outcome.fails for case in cases)


@dataclass(frozen=True, slots=True)
class FinishedRun:
    """A run that ended and whose cases could be read.

    ``problem`` is set when the run as a whole must not count as green even if every case
    passed (for example it ended ERROR or CANCELLED); it is reported as an error of its own.
    """

    provider: str
    run_id: str
    status: str
    result: str | None
    cases: tuple[RemoteCase, ...]
    problem: str | None = None
    #: Where a person sees the run, when known.
    url: str | None = None
    #: The collector the cases appear under, when not the run itself (an Autonoma folder).
    group: str | None = None
    #: Where and how the run ran, as JUnit property names and values (TestVibe's feature,
    #: config and site).
    context: tuple[tuple[str, str], ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    #: The runner's log, for a run that did not pass.
    log: str | None = None
    #: The reruns of its failed cases, in order, when there were any: each case's verdict is
    #: its last attempt's.
    reruns: tuple[StartedRun, ...] = ()

    def tally(self) -> str:
        """How many cases had each outcome, e.g. ``2 passed, 1 failed``; empty without cases."""
        return tally(case.outcome for case in self.cases)

    def run_of(self, case: RemoteCase) -> str:
        """The short id of the run that gave ``case`` its current verdict: each rerun holds only
        the cases that did not pass before, so the case's number of earlier attempts points at
        it."""
        runs = (self.run_id, *(rerun.run_id for rerun in self.reruns))
        return runs[min(len(case.attempts), len(runs) - 1)]


class RunFacts(Protocol):
    """What describing a case needs of its run: a :class:`FinishedRun`, or a :class:`RunSoFar`
    for a case whose run has not ended (or whose end could not be read)."""

    @property
    def provider(self) -> str: ...
    @property
    def run_id(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def group(self) -> str | None: ...
    @property
    def context(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def artifacts(self) -> tuple[Artifact, ...]: ...
    @property
    def log(self) -> str | None: ...
    @property
    def reruns(self) -> tuple[StartedRun, ...]: ...

    def run_of(self, case: RemoteCase) -> str: ...


@dataclass(frozen=True, slots=True)
class RunSoFar:
    """A run as far as it is known before its end: its page and group, as its status answers
    gave them. What only the end tells (its context, artifacts, log and reruns) it has none of."""

    provider: str
    run_id: str
    url: str | None = None
    group: str | None = None
    context: tuple[tuple[str, str], ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    log: str | None = None
    reruns: tuple[StartedRun, ...] = ()

    def run_of(self, case: RemoteCase) -> str:
        return self.run_id


@dataclass(frozen=True, slots=True)
class UnreadableRun:
    """A run whose outcome could not be learned: API error, bad body, timeout, network.

    Reported as a collection error of that run, so pytest exits 2, never 0 or 1.
    """

    provider: str
    run_id: str
    message: str
    last_status: str | None = None
    url: str | None = None
    #: The run was still going when the wait's timeout passed.
    timed_out: bool = False
    #: Set when there is no run at all: starting one failed. What was to be started ("test
    #: plan pln_x", or "the default test plan"); ``run_id`` then names it in node ids.
    start_of: str | None = None
    #: For a start that failed: the request may have reached the platform all the same (a
    #: timeout, a 5xx, an answer that could not be read), so a run may have started.
    maybe_started: bool = False


RunReport = FinishedRun | UnreadableRun


@dataclass(frozen=True, slots=True)
class SkippedSource:
    """A platform's runs not waited for (nor started) because its credentials are not in the
    environment, and the session was told to skip them (``--qatech-missing-token skip``)."""

    provider: str
    #: The variables not set, as people read them: ``QATECH_API_TOKEN (or QATECH_API_KEY)``.
    missing: str
    #: The runs it would have waited for, as they were given.
    run_ids: tuple[str, ...] = ()
    #: What it would have started: ``pln_x``, or ``the default test plan``.
    starts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StartedRun:
    """A run the platform started when asked (QA.tech's Start Run and Rerun APIs' ``run``)."""

    run_id: str
    #: Where a person sees it.
    url: str | None = None
    #: How many cases it has, as the platform said when it started.
    test_count: int | None = None
    #: The test plan it runs: its name and short id, when the platform said.
    plan_name: str | None = None
    plan_id: str | None = None


@dataclass(frozen=True, slots=True)
class Listed:
    """A case as an answer about a run lists it: who it is (its ``key``), its name, its verdict
    once it has one, and the platform's id of the case, where the listing gives it."""

    key: str
    name: str
    verdict: RemoteCase | None = None
    case_id: str | None = None

    def without_verdict(self, headline: str) -> RemoteCase:
        """The case as an error, when it will get no verdict: who it is, still."""
        return RemoteCase(self.name, Outcome.ERROR, headline, key=self.key, case_id=self.case_id)


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """A run as known at one moment, ended or not: what a front end lays out items from while
    the run goes on."""

    provider: str
    run_id: str
    #: The last status the API gave; None before the first answer.
    status: str | None = None
    #: The collector its cases appear under, when not the run itself (an Autonoma folder).
    group: str | None = None
    #: Its cases as listed so far, each with its final verdict once it has one; None while
    #: the run has listed none.
    cases: tuple[Listed, ...] | None = None
    #: Its outcome, once it has ended or could not be read.
    report: RunReport | None = None
    #: Where a person sees the run, when known.
    url: str | None = None
    #: The name the user gave the run (``--qatech-run staging=abc123``), or the test plan of a
    #: run started here: what its node ids say instead of its short id.
    label: str | None = None
    #: Its last status says it has ended, though its results may still be being read.
    finished: bool = False

    @classmethod
    def of(cls, report: RunReport, label: str | None = None) -> RunSnapshot:
        """A run that has ended, or could not be read."""
        if isinstance(report, UnreadableRun):
            return cls(
                report.provider,
                report.run_id,
                report.last_status,
                report=report,
                url=report.url,
                label=label,
            )
        cases = tuple(Listed(case.key, case.name, case, case.case_id) for case in report.cases)
        return cls(
            report.provider,
            report.run_id,
            report.status,
            report.group,
            cases,
            report,
            report.url,
            label,
        )

    @property
    def ended_badly(self) -> bool:
        """Whether it could not be read, or ended with a problem: what an item of its own (the
        run's ``(run)`` entry) reports."""
        report = self.report
        return isinstance(report, UnreadableRun) or (report is not None and bool(report.problem))

    def facts(self) -> RunFacts:
        """The run as far as known, to describe a case of it: its report once it has ended,
        else what its status answers told (its page and group)."""
        if isinstance(self.report, FinishedRun):
            return self.report
        return RunSoFar(self.provider, self.run_id, self.url, self.group)
