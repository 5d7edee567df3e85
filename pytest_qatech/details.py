"""Read more about some cases of finished runs: one request per case, several at once.

A run's details are requests per case (QA.tech's per-case endpoint), so a run with many
failures, or ``--qatech-details=all`` on a large run, needs them in parallel: a few worker
threads send the requests, and the calling thread decides, as the wait loop does, what is
retried and when. A transient failure is retried with the wait's backoff, up to the wait's
attempt limit; a final error or an unusable answer is not. Nothing here can fail a run: a case
whose details cannot be read stays as the run endpoint described it, with a warning.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import queue
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_qatech.models import FinishedRun, RemoteCase, RunReport
from pytest_qatech.providers import BodyError, CaseDetails
from pytest_qatech.waiting import RetryPolicy, Target, WaitObserver

#: At most this many requests at once: enough to hide latency, few enough not to flood an API.
WORKERS = 8


@dataclass
class _Job:
    target: Target
    case: RemoteCase
    details: CaseDetails
    failures: int = 0
    #: The case with its details, once read; merged on arrival, so no answer is kept.
    detailed: RemoteCase | None = None
    #: Why the details could not be read, once that is known.
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.detailed is not None or self.error is not None

    @property
    def url(self) -> str:
        return self.target.client.url(self.details.request)


def add_case_details(
    targets: Sequence[Target],
    reports: Sequence[RunReport],
    *,
    deadline: float,
    retry: RetryPolicy,
    observer: WaitObserver,
    rng: random.Random | None = None,
    workers: int = WORKERS,
) -> list[RunReport]:
    """``reports`` (one per target, in order) with the details their providers ask for.

    ``deadline`` is a ``time.monotonic()`` value: the wait's own end, so details never make a
    session outlast its timeout.
    """
    jobs = [
        _Job(target, report.cases[details.index], details)
        for target, report in zip(targets, reports, strict=True)
        if isinstance(report, FinishedRun)
        for details in target.provider.case_details(report)
    ]
    if jobs:
        _fetch(jobs, deadline, retry, observer, rng or random.Random(), workers)
    return [
        _merged(target, report, [job for job in jobs if job.target is target], observer)
        for target, report in zip(targets, reports, strict=True)
    ]


def _fetch(
    jobs: list[_Job],
    deadline: float,
    retry: RetryPolicy,
    observer: WaitObserver,
    rng: random.Random,
    workers: int,
) -> None:
    from pytest_qatech.client import FinalError, TransientError

    todo: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
    answers: queue.SimpleQueue[tuple[_Job, object, BaseException | None]] = queue.SimpleQueue()

    def work() -> None:
        while (job := todo.get()) is not None:
            time_left = max(0.1, deadline - time.monotonic())
            try:
                body = job.target.client.get_json(job.details.request, time_left=time_left)
            except BaseException as error:  # the calling thread decides what it means
                answers.put((job, None, error))
            else:
                answers.put((job, body, None))

    # Daemon threads: an interrupted session must not wait for a request still in flight.
    threads = [
        threading.Thread(target=work, name="qatech-details", daemon=True)
        for _ in range(min(workers, len(jobs)))
    ]
    for thread in threads:
        thread.start()
    order = itertools.count()
    due = [(0.0, next(order), job) for job in jobs]
    in_flight = 0
    try:
        while in_flight or due:
            now = time.monotonic()
            if now >= deadline:
                break
            while due and due[0][0] <= now and in_flight < len(threads):
                todo.put(heapq.heappop(due)[2])
                in_flight += 1
            wake = due[0][0] if due and in_flight < len(threads) else deadline
            timeout = max(0.0, min(wake, deadline) - now)
            if not in_flight:
                time.sleep(timeout)
                continue
            try:
                job, body, error = answers.get(timeout=timeout)
            except queue.Empty:
                continue
            in_flight -= 1
            if error is None:
                try:
                    job.detailed = job.details.merge(job.case, body)
                except BodyError as unusable:
                    job.error = f"GET {job.url} gave an unusable answer: {unusable}"
            elif isinstance(error, TransientError):
                job.failures += 1
                if job.failures < retry.max_attempts:
                    delay = retry.delay(job.failures, error.retry_after, rng)
                    observer.request_failed(job.target.label, f"GET {job.url}: {error}", delay)
                    heapq.heappush(due, (time.monotonic() + delay, next(order), job))
                    continue
                job.error = f"GET {job.url} failed {job.failures} times; the last: {error}"
            elif isinstance(error, FinalError):
                job.error = f"GET {job.url} failed: {error}"
            else:
                raise error
    finally:
        for _ in threads:
            todo.put(None)
    for job in jobs:
        if not job.done:
            job.error = f"GET {job.url}: no answer before the wait's timeout"


def _merged(
    target: Target, report: RunReport, jobs: list[_Job], observer: WaitObserver
) -> RunReport:
    if not jobs or not isinstance(report, FinishedRun):
        return report
    cases = list(report.cases)
    problems = []
    for job in jobs:
        if job.detailed is not None:
            cases[job.details.index] = job.detailed
        elif job.error is not None:
            problems.append(job.error)
    if problems:
        observer.details_missing(
            target.label,
            f"the details of {len(problems)} of {len(jobs)} cases could not be read, so they "
            f"are reported as the run endpoint described them; the first problem: {problems[0]}",
        )
    return dataclasses.replace(report, cases=tuple(cases))
