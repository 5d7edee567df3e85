"""Wait for remote runs of any platform at once, and learn each case's verdict, with the details
its provider asks for, all within one timeout.

One loop and one clock, whatever the platform. Every request has a time it is due: a run's
status polls, its results request once it has ended, and a case request for each case whose
provider has more to say about it once the case has its verdict. With ``listing``, the polls
ask for the run's cases too, so that a case is known, and then decided, while its run goes on;
one :data:`~pytest_qatech.core.events.Listener` hears each fact the moment the loop learns it,
and what is worth a line in a log. The loop sends what is due, as many requests at a time as
its sender takes (a run's polls one after another, its case requests side by side), and
otherwise waits until an answer comes or the next thing is due. A request that failed just gets
a later due time, so a run that backs off never holds up the others. Time comes from an
injected :class:`~pytest_qatech.core.clock.Clock` and requests go out through an injected
:class:`~pytest_qatech.core.sending.Sender`, so tests drive the whole loop with a fake clock and
no thread.
"""

from __future__ import annotations

import dataclasses
import enum
import heapq
import itertools
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_qatech.core import reruns
from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.client import Client, FinalError, TransientError
from pytest_qatech.core.clock import Clock, SystemClock
from pytest_qatech.core.events import (
    Decided,
    Ended,
    Listener,
    Noted,
    Progressed,
    RequestFailed,
    RunStanding,
    StatusChanged,
    StillWaiting,
    Waiting,
    Warned,
)
from pytest_qatech.core.models import (
    FinishedRun,
    Listed,
    Outcome,
    RemoteCase,
    RunReport,
    StartedRun,
    UnreadableRun,
    tally,
)
from pytest_qatech.core.options import TIMEOUT, run_label
from pytest_qatech.core.providers.base import CaseRequest, Progress, Provider
from pytest_qatech.core.providers.body import BodyError
from pytest_qatech.core.retry import RetryPolicy, may_have_acted, may_have_started, retry_for
from pytest_qatech.core.sending import Answer, ApiClient, Sender, ThreadedSender
from pytest_qatech.core.text import counted, format_duration

if TYPE_CHECKING:
    from pytest_qatech.core.platforms import Settings

HEARTBEAT_SECONDS = 60.0


@dataclass(frozen=True)
class Target:
    """A run to wait for: its platform, and the client that reaches that platform's API."""

    provider: Provider
    client: ApiClient
    run_id: str

    @property
    def label(self) -> str:
        return run_label(self.provider.title, self.run_id)


#: Whether a front end still wants a run (by its provider's name and its id): one that reports
#: none of its cases (none was selected) says no, and the run is waited for no more.
Wanted = Callable[[str, str], bool]


@dataclass(frozen=True)
class Chosen:
    """Which of a run's cases a front end reports: ``keys`` (the cases' keys), or every case,
    those it has not listed yet too (None)."""

    keys: frozenset[str] | None = None


#: Which of a run's cases (by its provider's name and its id) the front end reports; None
#: while it does not know yet. A rerun runs again only cases it reports, and waits until it
#: knows which.
Selected = Callable[[str, str], "Chosen | None"]


class Stopped(Exception):
    """The wait was told to stop (the session is over); what it learnt so far stands."""


class Purpose(enum.Enum):
    STATUS = "status"
    RESULTS = "results"
    CASE = "case"
    #: The POST that reruns a run's failed cases: sent again only when it cannot have started
    #: a run (:attr:`~pytest_qatech.core.client.TransientError.safe_to_repeat`).
    RERUN = "rerun"


@dataclass(eq=False)
class Job:
    """A request the loop sends, and again after a failure, until it is answered or given up."""

    run: _Run
    purpose: Purpose
    request: ApiRequest
    #: For a case request: the case, and what its answer changes.
    case: RemoteCase | None = None
    case_request: CaseRequest | None = None
    failures: int = 0
    failing_since: float | None = None
    last_error: str = ""

    @property
    def target(self) -> Target:
        return self.run.target

    @property
    def url(self) -> str:
        return self.target.client.url(self.request)

    @property
    def posts(self) -> bool:
        """Whether it starts something (a rerun): then whether it may be sent again is
        :func:`~pytest_qatech.core.retry.may_have_acted`'s to say."""
        return self.request.method == "POST"

    @property
    def what(self) -> str:
        """The request for people: ``GET https://...``."""
        return f"{self.request.method} {self.url}"


@dataclass(eq=False)
class _Run:
    """A run waited for; with reruns, each attempt in turn (the fields below ``attempt_id``
    are the current attempt's)."""

    target: Target
    listing: bool
    #: How many more times its failed cases may be rerun.
    reruns_left: int = 0
    #: The run whose answers are read now: the run itself, then each rerun in turn.
    attempt_id: str = ""
    #: The reruns started so far.
    started: list[StartedRun] = field(default_factory=list)
    #: The run and its reruns so far as one, once the first attempt has ended.
    merged: FinishedRun | None = None
    #: How many cases the rerun asked for last is to run again.
    rerunning_cases: int = 0
    #: Its status request, then its results request (then its rerun request, and so on).
    job: Job = field(init=False)
    #: The last status the API gave.
    status: str | None = None
    #: The keys of the cases the run has listed while going, in order.
    listed: dict[str, str] = field(default_factory=dict)
    #: Each case's final verdict, by key, once its details are in.
    settled: dict[str, RemoteCase] = field(default_factory=dict)
    #: The case requests under way, by the key of their case.
    open_cases: dict[str, Job] = field(default_factory=dict)
    #: How many cases were asked about, by what was asked (``details``, ``traces``).
    case_requests: dict[str, int] = field(default_factory=dict)
    #: Why a case request gave nothing, and what it was, by the key of its case.
    case_problems: dict[str, tuple[CaseRequest, str]] = field(default_factory=dict)
    #: The run's results once read: its cases may still wait for their case requests.
    read: FinishedRun | None = None
    #: The outcome, once known.
    report: RunReport | None = None
    #: No longer waited for: the front end reports none of its cases.
    dropped: bool = False
    #: An attempt that ended with cases to rerun, and the run merged so far, while the front
    #: end has not said which of the run's cases it reports.
    awaiting: tuple[FinishedRun, FinishedRun] | None = None

    @property
    def over(self) -> bool:
        return self.report is not None or self.dropped

    def __post_init__(self) -> None:
        if not self.target.provider.can_rerun:
            self.reruns_left = 0
        self.attempt(self.target.run_id)

    def attempt(self, run_id: str) -> None:
        """Start reading ``run_id``: the run itself, or a rerun of it."""
        self.attempt_id = run_id
        self.status, self.read = None, None
        self.listed, self.settled = {}, {}
        self.open_cases, self.case_problems, self.case_requests = {}, {}, {}
        request = self.target.provider.status_request(run_id, listing=self.listing)
        self.job = Job(self, Purpose.STATUS, request)

    def decided(self, key: str) -> bool:
        """Whether the case has its verdict: final, or waiting for its case request."""
        return key in self.settled or key in self.open_cases

    @property
    def key(self) -> tuple[str, str]:
        """The run as events name it: its provider's name and its id."""
        return self.target.provider.name, self.target.run_id

    @property
    def rerunning(self) -> bool:
        """Whether the attempt read now is a rerun: what it learns is not told until it ends."""
        return bool(self.started)

    @property
    def label(self) -> str:
        if not self.started:
            return self.target.label
        rerun = run_label(self.target.provider.title, self.attempt_id)
        return f"{rerun} (rerun {len(self.started)} of {self.target.run_id})"

    def told(self, progress: Progress) -> Progress:
        """``progress`` as a listener may hear it: without the verdicts that wait for the run's
        end (a listing's verdict says when a case was decided; its details may come later)."""
        if self.reruns_left == 0 or not progress.cases:
            return progress
        cases = tuple(
            dataclasses.replace(case, verdict=None)
            if case.verdict is not None and self.holds(case.verdict)
            else case
            for case in progress.cases
        )
        return dataclasses.replace(progress, cases=cases)

    def holds(self, case: RemoteCase) -> bool:
        """Whether a verdict waits for the run's end: one that a rerun may change (a skip too,
        which a rerun runs again), so that a case is reported once, with its last verdict."""
        return self.reruns_left > 0 and self.target.provider.reruns_again(case)


class Wait:
    """One wait for some runs: poll each until it ends or ``timeout`` seconds pass, read its
    results, and the case requests its provider asks for.

    With ``listing``, polls ask for each run's cases too, so that each case's verdict is heard
    as soon as it is known; ``wanted`` says which runs are still wanted. ``stop``, once set,
    ends the wait at once (:class:`Stopped`). :meth:`run` returns the reports in the order of
    ``targets`` and closes the sender.
    """

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        poll_interval: float,
        timeout: float,
        say: Listener,
        clock: Clock,
        sender: Sender[Job],
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        listing: bool = False,
        wanted: Wanted | None = None,
        selected: Selected | None = None,
        stop: threading.Event | None = None,
        reruns: int = 0,
        live_interval: float | None = None,
    ) -> None:
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.say = say
        #: Seconds between :class:`Waiting` events, for a live line; None: none.
        self.live_interval = live_interval
        self.clock = clock
        self.sender = sender
        self.retry = retry or retry_for(poll_interval)
        self.rng = rng or random.Random()
        self.wanted = wanted
        self.selected = selected
        self.stop = stop
        self.started = self.last_sign_of_life = clock.now()
        self.deadline = self.started + timeout
        self.runs = [_Run(target, listing, reruns) for target in targets]
        #: Verdicts learnt from the answer being handled, told together once it is.
        self.untold: dict[_Run, list[RemoteCase]] = {}
        self.due: list[tuple[float, int, Job]] = []
        self.order = itertools.count()
        self.in_flight = 0
        for run in self.runs:
            self.schedule(run.job, self.started)

    def elapsed(self) -> float:
        return self.clock.now() - self.started

    def waiting_for(self) -> list[_Run]:
        """The runs whose results are not read yet."""
        return [run for run in self.runs if not run.over and run.read is None]

    def schedule(self, job: Job, when: float) -> None:
        heapq.heappush(self.due, (when, next(self.order), job))

    def run(self) -> list[RunReport]:
        try:
            return self._drive()
        finally:
            self.sender.close()
            if self.live_interval is not None:
                self.say(Waiting(self.elapsed(), ()))

    def _drive(self) -> list[RunReport]:
        while any(not run.over for run in self.runs):
            if self.stop is not None and self.stop.is_set():
                raise Stopped
            if self.drop_unwanted():
                continue
            self.rerun_awaiting()
            now = self.clock.now()
            if now >= self.deadline:
                self.time_out()
                self.tell()
                break
            while self.due and self.due[0][0] <= now and self.in_flight < self.sender.capacity:
                job = heapq.heappop(self.due)[2]
                if job.run.dropped:
                    continue
                self.sender.send(job, job.target.client, job.request, max(0.1, self.deadline - now))
                self.in_flight += 1
            if self.in_flight:
                answer = self.sender.answer(self.wake(now) - now)
                if answer is not None:
                    self.in_flight -= 1
                    self.handle(answer)
                    self.tell()
                    continue
            self.heartbeat()
            self.show()
            if not self.in_flight:
                now = self.clock.now()
                self.clock.sleep(max(0.0, self.wake(now) - now))
        return [run.report for run in self.runs if run.report is not None]

    def drop_unwanted(self) -> bool:
        """Wait no more for the runs no longer wanted: nothing more is sent for them, and what
        comes back is not read. Whether any was dropped."""
        if self.wanted is None:
            return False
        dropped = False
        for run in self.runs:
            if not run.over and not self.wanted(*run.key):
                run.dropped = dropped = True
        return dropped

    def wake(self, now: float) -> float:
        """When the loop next has something to do, unless an answer comes first."""
        times = [self.last_sign_of_life + HEARTBEAT_SECONDS, self.deadline]
        # A request that is due but has no free place must wait for an answer, not spin.
        if self.due and self.in_flight < self.sender.capacity:
            times.append(self.due[0][0])
        if self.live_interval is not None:
            times.append(now + self.live_interval)
        if any(run.awaiting is not None and not run.over for run in self.runs):
            times.append(now + self.poll_interval)  # to ask again what the front end selected
        return min(times)

    def handle(self, answer: Answer[Job]) -> None:
        if answer.crash is not None:
            raise answer.crash
        job = answer.job
        if job.run.over:
            return  # an answer that came after the run was given up, or no longer wanted
        error = answer.error
        if error is None:
            try:
                self.answered(job, answer.body)
            except BodyError as unusable:
                message = f"{job.what} gave an unusable answer: {unusable}"
                self.give_up(job, message, maybe_started=job.posts and may_have_acted(unusable))
        elif job.posts and may_have_acted(error):
            # Never sent again: it may have started a rerun.
            self.give_up(job, f"{job.what} failed: {error}", maybe_started=True)
        elif isinstance(error, TransientError):
            self.failed(job, error)
        elif isinstance(error, FinalError):
            hint = None
            if error.http_status is not None and job.purpose is not Purpose.CASE:
                hint = job.target.provider.hint(error.http_status, post=job.posts)
            self.give_up(job, f"{job.what} failed: {error}", hint)

    def answered(self, job: Job, body: object) -> None:
        run, provider = job.run, job.target.provider
        if job.purpose is Purpose.CASE:
            assert job.case is not None
            assert job.case_request is not None
            case = job.case_request.apply(job.case, body)
            then = job.case_request.then
            follow = then(case) if then is not None else None
            if follow is None:
                self.case_done(job, case)
            else:
                self.follow(job, case, follow)
        elif job.purpose is Purpose.RERUN:
            self.rerun_started(run, provider.parse_rerun(run.attempt_id, body))
        elif job.purpose is Purpose.RESULTS:
            self.results(run, provider.parse_results(run.attempt_id, body))
        else:
            progress = provider.parse_status(run.attempt_id, body)
            previous, now = run.status, self.clock.now()
            # The state first, the listener's too, then the line: a Ctrl-C while it is said
            # must see this status.
            run.status = progress.status
            job.failures, job.failing_since = 0, None
            if not run.rerunning:
                self.say(Progressed(*run.key, run.told(progress)))
            if progress.status != previous and not (previous is None and progress.finished):
                self.last_sign_of_life = now
                self.say(StatusChanged(run.label, progress.status, self.elapsed()))
            for listed in progress.cases or ():
                run.listed.setdefault(listed.key, listed.name)
                if listed.verdict is not None and not run.decided(listed.key):
                    self.decide(run, listed.verdict)
            if not progress.finished:
                self.schedule(job, now + self.poll_interval)
                return
            results_request = provider.results_request(run.attempt_id, listing=run.listing)
            if results_request is None:
                # This platform's last status answer already holds the cases.
                self.results(run, provider.parse_results(run.attempt_id, body))
                return
            job.purpose, job.request = Purpose.RESULTS, results_request
            self.schedule(job, now)

    def decide(self, run: _Run, case: RemoteCase) -> None:
        """A case has its verdict: final now, or once its provider's case request is answered."""
        case_request = run.target.provider.case_request(case)
        if case_request is None:
            self.settle(run, case)
            return
        job = Job(run, Purpose.CASE, case_request.request, case, case_request)
        run.open_cases[case.key] = job
        self.count(run, case_request)
        self.schedule(job, self.clock.now())

    @staticmethod
    def count(run: _Run, case_request: CaseRequest) -> None:
        run.case_requests[case_request.what] = run.case_requests.get(case_request.what, 0) + 1

    def follow(self, job: Job, case: RemoteCase, follow: CaseRequest) -> None:
        """A case request was answered, and another follows it (the next page of a trace): the
        same job sends it, with the case as the answer left it."""
        assert job.case_request is not None
        if follow.what != job.case_request.what:
            self.count(job.run, follow)
        job.case, job.case_request, job.request = case, follow, follow.request
        job.failures, job.failing_since = 0, None
        self.schedule(job, self.clock.now())

    def settle(self, run: _Run, case: RemoteCase) -> None:
        """A case has its final verdict, its details in."""
        run.settled[case.key] = case
        if not run.rerunning and not run.holds(case):
            self.untold.setdefault(run, []).append(case)
        self.maybe_ended(run)

    def tell(self, run: _Run | None = None) -> None:
        """Tell the verdicts learnt so far (of ``run`` only, if given), together: verdicts of one
        answer were decided at one moment."""
        for told in [run] if run is not None else list(self.untold):
            cases = self.untold.pop(told, None)
            if cases:
                self.say(Decided(*told.key, tuple(cases)))

    def results(self, run: _Run, finished: FinishedRun) -> None:
        read_keys = {case.key for case in finished.cases}
        vanished = tuple(
            RemoteCase(
                name,
                Outcome.ERROR,
                "the case was listed while its run was going, but not once the run had ended: "
                "it has no verdict",
                key=key,
            )
            for key, name in run.listed.items()
            if key not in read_keys
        )
        read = dataclasses.replace(finished, cases=finished.cases + vanished)
        if not run.rerunning:
            # Every case is known before the first is decided: a front end that looks in between
            # must not take a case still waiting for its details for one that never was.
            listed = tuple(Listed(case.key, case.name, case, case.case_id) for case in read.cases)
            progress = Progress(read.status, True, listed, read.group)
            self.say(Progressed(*run.key, run.told(progress)))
        for case in read.cases:
            if not run.decided(case.key):
                self.decide(run, case)
        # Read only now: the run must not end on the first case decided while others are not.
        run.read = read
        self.maybe_ended(run)

    def maybe_ended(self, run: _Run) -> None:
        if run.read is None or run.open_cases or run.report is not None:
            return
        order = {case.key: index for index, case in enumerate(run.read.cases)}
        problems = sorted(run.case_problems.items(), key=lambda item: order[item[0]])
        for what in dict.fromkeys(asked.what for _, (asked, _) in problems):
            of_what = [(asked, problem) for _, (asked, problem) in problems if asked.what == what]
            asked, first = of_what[0]
            self.say(
                Warned(
                    run.label,
                    f"the {what} of {len(of_what)} of {counted(run.case_requests[what], 'case')} "
                    f"could not be read, so they are reported {asked.instead}; the first "
                    f"problem: {first}",
                )
            )
        cases = tuple(run.settled.get(case.key, case) for case in run.read.cases)
        self.attempt_ended(run, dataclasses.replace(run.read, cases=cases))

    def attempt_ended(self, run: _Run, attempt: FinishedRun) -> None:
        """An attempt has every verdict: the run ends, or its failed cases are rerun."""
        merged = attempt
        if run.merged is not None:
            again = run.target.provider.reruns_again
            merged, unmatched = reruns.merged(run.merged, attempt, run.started[-1], again)
            if unmatched:
                names = ", ".join(repr(case.name) for case in unmatched)
                self.say(
                    Warned(
                        run.label,
                        f"{len(unmatched)} of its cases match no case that failed before "
                        f"({names}); each is reported as a case of its own",
                    )
                )
        self.rerun_or_end(run, attempt, merged)

    def rerun_or_end(self, run: _Run, attempt: FinishedRun, merged: FinishedRun) -> None:
        """Rerun the failed cases of ``attempt`` that the front end reports, if any and reruns
        are left; else the run ends as ``merged``. Until the front end knows which cases it
        reports, the run waits (:meth:`rerun_awaiting`): a rerun is paid for."""
        provider = run.target.provider
        failing = provider.rerun_cases(attempt.cases) if run.reruns_left else ()
        if not failing or not reruns.wants_rerun(attempt) or self.clock.now() >= self.deadline:
            self.end(run, merged)
            return
        chosen = self.selected(*run.key) if self.selected is not None else Chosen()
        if chosen is None:
            run.awaiting = attempt, merged
            return
        run.awaiting = None
        cases = failing
        if chosen.keys is not None:
            # By the run's own keys, which the merged run keeps for every attempt's case.
            cases = provider.rerun_cases([c for c in merged.cases if c.key in chosen.keys])
        every = len(cases) == len(failing)
        # A rerun of only some cases names each by the id of its test, which its details give.
        unnamed = [] if every else [case.name for case in cases if case.project_case_id is None]
        request = provider.rerun_request(run.attempt_id, cases, every=every)
        if unnamed:
            names = ", ".join(repr(name) for name in unnamed)
            self.say(
                Warned(
                    run.label,
                    f"not rerun: {names}, selected here of its failed cases: a rerun of some "
                    "of a run's failed cases names their tests by id, which no details of "
                    "these gave; their verdicts stand",
                )
            )
        if request is None:
            self.end(run, merged)
            return
        run.merged, run.read, run.rerunning_cases = merged, None, len(cases) - len(unnamed)
        run.reruns_left -= 1
        run.job = Job(run, Purpose.RERUN, request)
        self.schedule(run.job, self.clock.now())

    def rerun_awaiting(self) -> None:
        """Decide the reruns that waited for the front end to say which cases it reports, once
        it has."""
        for run in self.runs:
            if run.awaiting is None or run.over:
                continue
            if self.selected is None or self.selected(*run.key) is not None:
                self.rerun_or_end(run, *run.awaiting)

    def rerun_started(self, run: _Run, rerun: StartedRun) -> None:
        assert run.merged is not None
        failed = run.rerunning_cases
        before = run.label
        run.started.append(rerun)
        attempt = len(run.started)
        run.attempt(rerun.run_id)
        self.schedule(run.job, self.clock.now())
        where = f": {rerun.url}" if rerun.url else ""
        self.say(
            Noted(
                before,
                f"{counted(failed, 'case')} to run again: rerun {attempt} of "
                f"{attempt + run.reruns_left} started as "
                f"{run_label(run.target.provider.title, rerun.run_id)}{where}",
            )
        )

    def end(self, run: _Run, report: RunReport) -> None:
        run.report = report
        self.tell(run)
        self.say(Ended(*run.key, report))

    def case_done(self, job: Job, case: RemoteCase, problem: str | None = None) -> None:
        run = job.run
        del run.open_cases[case.key]
        if problem is not None:
            assert job.case_request is not None
            run.case_problems[case.key] = (job.case_request, problem)
        self.settle(run, case)

    def failed(self, job: Job, error: TransientError) -> None:
        now = self.clock.now()
        job.failures += 1
        if job.failing_since is None:
            job.failing_since = now
        job.last_error = f"{job.what}: {error}"
        bounded = job.purpose is not Purpose.STATUS or job.run.status is None
        if bounded and job.failures >= self.retry.max_attempts:
            if job.purpose is Purpose.CASE:
                self.give_up(job, f"{job.what} failed {job.failures} times; the last: {error}")
            else:
                self.give_up(
                    job,
                    f"the {job.purpose.value} request failed {job.failures} times over "
                    f"{format_duration(now - job.failing_since)}; the last failure: "
                    f"{job.last_error}",
                )
            return
        delay = min(
            self.retry.delay(job.failures, error.retry_after, self.rng),
            max(0.0, self.deadline - now),
        )
        self.schedule(job, now + delay)
        self.say(RequestFailed(job.run.label, job.last_error, delay))

    def give_up(
        self, job: Job, message: str, hint: str | None = None, *, maybe_started: bool = False
    ) -> None:
        """No more tries: a case stays as its run described it; a run cannot be read; a run
        whose rerun could not be started keeps the verdicts it has."""
        if job.purpose is Purpose.CASE:
            assert job.case is not None
            self.case_done(job, job.case, message)
            return
        if hint:
            message = f"{message}\nhint: {hint}"
        if job.purpose is Purpose.RERUN:
            self.rerun_failed(job.run, message, maybe_started)
            return
        self.unreadable(job.run, f"{job.run.label} could not be read: {message}")

    def rerun_failed(self, run: _Run, message: str, maybe_started: bool) -> None:
        assert run.merged is not None
        if maybe_started:
            provider = run.target.provider
            message += "; " + may_have_started(provider.title, "a rerun", provider.dashboard())
        self.say(
            Warned(
                run.label,
                f"its failed cases could not be rerun, so their verdicts stand: {message}",
            )
        )
        self.end(run, run.merged)

    def unreadable(self, run: _Run, message: str, *, timed_out: bool = False) -> None:
        if run.merged is not None:
            # A rerun that could not be read changes no verdict of the attempts before it.
            self.say(Warned(run.label, f"{message}; the verdicts before it stand"))
            self.end(run, run.merged)
            return
        provider = run.target.provider
        self.end(
            run,
            UnreadableRun(
                provider.name,
                run.attempt_id,
                message,
                run.status,
                provider.run_url(run.attempt_id),
                timed_out,
            ),
        )

    def time_out(self) -> None:
        for run in self.runs:
            if run.over:
                continue
            if run.awaiting is not None:
                self.say(
                    Warned(
                        run.label,
                        "its failed cases were not rerun: which of its cases this session "
                        "reports was not known before the wait's timeout",
                    )
                )
                self.end(run, run.awaiting[1])
                continue
            if run.read is not None:
                for job in list(run.open_cases.values()):
                    assert job.case is not None
                    self.case_done(
                        job, job.case, f"{job.what}: no answer before the wait's timeout"
                    )
                continue
            if run.job.purpose is Purpose.RERUN:
                self.rerun_failed(run, "no answer before the wait's timeout", True)
                continue
            message = (
                f"{run.label} did not finish in time: still "
                f"{run.status or 'unknown (no status was ever received)'} after "
                f"{format_duration(self.elapsed())} ({TIMEOUT.flag} {self.timeout:g}s)"
            )
            job = run.job
            if job.failures:
                assert job.failing_since is not None
                failed = "request" if job.failures == 1 else f"{job.failures} requests"
                message += (
                    f"; the last {failed} failed over "
                    f"{format_duration(self.clock.now() - job.failing_since)}, most recently: "
                    f"{job.last_error}"
                )
            self.unreadable(run, message, timed_out=True)

    def show(self) -> None:
        if self.live_interval is None:
            return
        runs = tuple(
            RunStanding(run.label, run.status, tally(c.outcome for c in run.settled.values()))
            for run in self.runs
        )
        self.say(Waiting(self.elapsed(), runs))

    def heartbeat(self) -> None:
        now = self.clock.now()
        # At the deadline the runs still going are reported as timed out instead.
        if now - self.last_sign_of_life < HEARTBEAT_SECONDS or now >= self.deadline:
            return
        for run in self.waiting_for():
            self.say(StillWaiting(run.label, run.status or "unknown", self.elapsed()))
        self.last_sign_of_life = self.clock.now()


def wait_for_sources(
    settings: Settings,
    *,
    say: Listener,
    clock: Clock | None = None,
    sender: Sender[Job] | None = None,
    listing: bool = False,
    wanted: Wanted | None = None,
    selected: Selected | None = None,
    stop: threading.Event | None = None,
    live_interval: float | None = None,
) -> list[RunReport]:
    """Wait for every run of every source, each platform through an HTTP client of its own."""
    sources = settings.sources
    clients = [Client(source.api_url, source.provider.auth_headers()) for source in sources]
    try:
        wait = Wait(
            targets_of(settings, clients),
            poll_interval=settings.poll_interval,
            timeout=settings.timeout,
            say=say,
            clock=clock or SystemClock(),
            sender=sender or ThreadedSender(),
            listing=listing,
            wanted=wanted,
            selected=selected,
            stop=stop,
            reruns=settings.reruns,
            live_interval=live_interval,
        )
        return wait.run()
    finally:
        for client in clients:
            client.close()


def targets_of(settings: Settings, clients: Sequence[ApiClient]) -> list[Target]:
    """A target per run of each source, each through its source's client."""
    return [
        Target(source.provider, client, run_id)
        for source, client in zip(settings.sources, clients, strict=True)
        for run_id in source.run_ids
    ]
