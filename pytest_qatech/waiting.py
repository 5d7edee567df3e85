"""Wait for several remote runs at once, on any platforms, then read each one's results.

One thread, one loop, whatever the platform: every run has a time its next request is due;
the loop sends whatever is due and sleeps until the next thing is. A run that must back off
after a failed request just gets a later due time, so it never holds up the others, and
Ctrl-C lands in this one thread at once. Time comes from an injected :class:`Clock`, so
tests need not wait.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pytest_qatech.models import FinishedRun, RunReport, UnreadableRun
from pytest_qatech.providers import ApiRequest, BodyError, Progress, Provider, RunSource

HEARTBEAT_SECONDS = 60.0


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class HttpGetter(Protocol):
    """The part of :class:`pytest_qatech.client.Client` the loop uses."""

    def url(self, request: ApiRequest) -> str: ...

    def get_json(self, request: ApiRequest, time_left: float | None = None) -> object: ...


@dataclass(frozen=True)
class RunProgress:
    """Where one run stands, for a live line on a terminal."""

    #: The run for people: ``QA.tech run abc123``.
    run: str
    #: The last status the API gave; None before the first answer.
    status: str | None
    #: How many cases had each outcome, once the run's results are read.
    cases: str = ""


class WaitObserver(Protocol):
    """Told what happens while waiting, to show signs of life in a CI log.

    ``run`` names the run for people: ``QA.tech run abc123``.
    """

    @property
    def live_interval(self) -> float | None:
        """Seconds between calls of :meth:`waiting` while nothing else happens; None for
        never, as in a CI log, where only lines that stay are any use."""
        ...

    def waiting(self, elapsed: float, runs: Sequence[RunProgress]) -> None:
        """Every run's progress, to redraw a live line; no runs: the wait is over."""
        ...

    def status_changed(self, run: str, status: str, elapsed: float) -> None: ...

    def still_waiting(self, run: str, status: str, elapsed: float) -> None: ...

    def request_failed(self, run: str, message: str, retry_in: float) -> None: ...

    def interrupted(self, run: str, status: str | None, elapsed: float) -> None: ...

    def details_missing(self, run: str, message: str) -> None:
        """Some cases' details could not be read; they stay as the run described them."""
        ...


@dataclass(frozen=True)
class Target:
    """A run to wait for: its platform, and the client that reaches that platform's API."""

    provider: Provider
    client: HttpGetter
    run_id: str

    @property
    def label(self) -> str:
        return f"{self.provider.title} run {self.run_id}"


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter.

    Once a run has answered with a status, failed polls are retried until the overall
    timeout: a flaky network must not lose the wait. Before the first answer (a wrong URL, a
    dead network) and for the one results request, ``max_attempts`` bounds the retries, so a
    typo does not cost an hour of CI time.
    """

    base: float = 1.0
    cap: float = 60.0
    max_attempts: int = 8

    def backoff(self, failures: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap, self.base * 2 ** (failures - 1)))

    def delay(self, failures: int, retry_after: float | None, rng: random.Random) -> float:
        """How long to wait after the ``failures``-th failure: what the server asked, if it
        asked, else the backoff."""
        return retry_after if retry_after is not None else self.backoff(failures, rng)


@dataclass
class _Run:
    target: Target
    due: float
    fetching: bool = False
    status: str | None = None
    failures: int = 0
    failing_since: float | None = None
    last_error: str = ""
    report: RunReport | None = None


@dataclass
class _Loop:
    clock: Clock
    observer: WaitObserver
    poll_interval: float
    timeout: float
    retry: RetryPolicy
    rng: random.Random
    started: float = 0.0
    last_sign_of_life: float = 0.0
    runs: list[_Run] = field(default_factory=list)

    def elapsed(self) -> float:
        return self.clock.now() - self.started

    def remaining(self) -> float:
        return self.timeout - self.elapsed()

    def pending(self) -> list[_Run]:
        return [run for run in self.runs if run.report is None]

    def step(self, run: _Run) -> None:
        provider, client, run_id = run.target.provider, run.target.client, run.target.run_id
        results_request = provider.results_request(run_id) if run.fetching else None
        request = results_request or provider.status_request(run_id)
        from pytest_qatech.client import FinalError, TransientError

        try:
            body = client.get_json(request, time_left=max(0.1, self.remaining()))
            if results_request is not None:
                run.report = provider.parse_results(run_id, body)
                return
            progress = provider.parse_status(run_id, body)
            self.progress(run, progress)
            if progress.finished and provider.results_request(run_id) is None:
                # This platform's last status answer already holds the cases.
                run.report = provider.parse_results(run_id, body)
        except TransientError as error:
            self.failed(run, request, str(error), error.retry_after)
        except FinalError as error:
            hint = provider.hint(error.http_status) if error.http_status else None
            self.give_up(run, f"GET {client.url(request)} failed: {error}", hint)
        except BodyError as error:
            self.give_up(run, f"GET {client.url(request)} gave an unusable answer: {error}")

    def progress(self, run: _Run, progress: Progress) -> None:
        previous = run.status
        # The state first, then the report: a Ctrl-C during the report must see this status.
        run.status = progress.status
        run.failures = 0
        run.failing_since = None
        run.fetching = progress.finished
        now = self.clock.now()
        run.due = now if progress.finished else now + self.poll_interval
        if progress.status != previous and not (previous is None and progress.finished):
            self.last_sign_of_life = now
            self.observer.status_changed(run.target.label, progress.status, self.elapsed())

    def failed(
        self, run: _Run, request: ApiRequest, message: str, retry_after: float | None
    ) -> None:
        now = self.clock.now()
        run.failures += 1
        run.failing_since = run.failing_since if run.failing_since is not None else now
        run.last_error = f"GET {run.target.client.url(request)}: {message}"
        bounded = run.fetching or run.status is None
        if bounded and run.failures >= self.retry.max_attempts:
            kind = "results" if run.fetching else "status"
            self.give_up(
                run,
                f"the {kind} request failed {run.failures} times over "
                f"{format_duration(now - run.failing_since)}; the last failure: {run.last_error}",
            )
            return
        delay = min(
            self.retry.delay(run.failures, retry_after, self.rng), max(0.0, self.remaining())
        )
        run.due = now + delay
        self.observer.request_failed(run.target.label, run.last_error, delay)

    def give_up(self, run: _Run, message: str, hint: str | None = None) -> None:
        if hint:
            message = f"{message}\nhint: {hint}"
        self.unreadable(run, f"{run.target.label} could not be read: {message}")

    def time_out(self, run: _Run) -> None:
        waited = format_duration(self.elapsed())
        message = (
            f"{run.target.label} did not finish in time: still "
            f"{run.status or 'unknown (no status was ever received)'} after {waited} "
            f"(--qatech-timeout {self.timeout:g}s)"
        )
        if run.failures:
            assert run.failing_since is not None
            failed = "request" if run.failures == 1 else f"{run.failures} requests"
            message += (
                f"; the last {failed} failed over "
                f"{format_duration(self.clock.now() - run.failing_since)}, most recently: "
                f"{run.last_error}"
            )
        self.unreadable(run, message, timed_out=True)

    def unreadable(self, run: _Run, message: str, *, timed_out: bool = False) -> None:
        provider, run_id = run.target.provider, run.target.run_id
        run.report = UnreadableRun(
            provider.name, run_id, message, run.status, provider.run_url(run_id), timed_out
        )

    def show(self) -> None:
        if self.observer.live_interval is None:
            return
        self.observer.waiting(
            self.elapsed(),
            [
                RunProgress(
                    run.target.label,
                    run.status,
                    run.report.tally() if isinstance(run.report, FinishedRun) else "",
                )
                for run in self.runs
            ],
        )

    def heartbeat(self) -> None:
        if self.clock.now() - self.last_sign_of_life < HEARTBEAT_SECONDS:
            return
        for run in self.pending():
            self.observer.still_waiting(run.target.label, run.status or "unknown", self.elapsed())
        self.last_sign_of_life = self.clock.now()


def wait_for_runs(
    targets: Sequence[Target],
    *,
    poll_interval: float,
    timeout: float,
    observer: WaitObserver,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
    rng: random.Random | None = None,
) -> list[RunReport]:
    """Poll each run until it ends or ``timeout`` seconds pass; then read its results once.

    The reports come back in the order of ``targets``.
    """
    clock = clock or SystemClock()
    loop = _Loop(
        clock=clock,
        observer=observer,
        poll_interval=poll_interval,
        timeout=timeout,
        retry=retry or _retry_for(poll_interval),
        rng=rng or random.Random(),
    )
    loop.started = loop.last_sign_of_life = clock.now()
    loop.runs = [_Run(target, due=loop.started) for target in targets]
    try:
        _drive(loop)
    except KeyboardInterrupt:
        for run in loop.pending():
            observer.interrupted(run.target.label, run.status, loop.elapsed())
        raise
    finally:
        if observer.live_interval is not None:
            observer.waiting(loop.elapsed(), ())
    return [run.report for run in loop.runs if run.report is not None]


def wait_for_sources(
    sources: Sequence[RunSource], *, poll_interval: float, timeout: float, observer: WaitObserver
) -> list[RunReport]:
    """Wait for every run of every source, each platform through its own HTTP client, then
    read the case details their providers ask for, all within ``timeout``."""
    from pytest_qatech.client import Client
    from pytest_qatech.details import add_case_details

    deadline = time.monotonic() + timeout
    clients = [Client(source.api_url, source.provider.auth_headers()) for source in sources]
    targets = [
        Target(source.provider, client, run_id)
        for source, client in zip(sources, clients, strict=True)
        for run_id in source.run_ids
    ]
    try:
        reports = wait_for_runs(
            targets, poll_interval=poll_interval, timeout=timeout, observer=observer
        )
        return add_case_details(
            targets,
            reports,
            deadline=deadline,
            retry=_retry_for(poll_interval),
            observer=observer,
        )
    finally:
        for client in clients:
            client.close()


def _retry_for(poll_interval: float) -> RetryPolicy:
    # Backoff scales with how eagerly the user polls: 1s to 60s at the default 10s interval,
    # proportionally less for the sub-second intervals of the simulator and the tests.
    base = min(1.0, poll_interval)
    return RetryPolicy(base=base, cap=60.0 * base)


def _drive(loop: _Loop) -> None:
    while pending := loop.pending():
        if loop.remaining() <= 0:
            for run in pending:
                loop.time_out(run)
            return
        earliest = min(pending, key=lambda run: run.due)
        if earliest.due <= loop.clock.now():
            # One request, then look again: it may have made another due (the results request
            # of a run that just ended), and the deadline may have passed meanwhile.
            loop.step(earliest)
            continue
        loop.heartbeat()
        loop.show()
        next_heartbeat = loop.last_sign_of_life + HEARTBEAT_SECONDS
        wake = min(earliest.due, next_heartbeat, loop.started + loop.timeout)
        now = loop.clock.now()
        if loop.observer.live_interval is not None:
            wake = min(wake, now + loop.observer.live_interval)
        loop.clock.sleep(max(0.0, wake - now))


def format_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
