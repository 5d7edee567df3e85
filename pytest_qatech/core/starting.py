"""Start the QA.tech runs a session asked for, before it waits for them.

Starting a run costs money, so a start is sent again only when it cannot have started a run: no
connection was made, or the server refused it unread (429). After a read timeout, a 5xx or an
answer that cannot be read, a run may have started: that is reported, with where to look,
and nothing is sent again. A start that fails stands in the report as a run that could not be
read, so the session is never green without the runs it asked for.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.client import Client, FinalError, TransientError
from pytest_qatech.core.clock import Clock, SystemClock
from pytest_qatech.core.models import StartedRun, UnreadableRun
from pytest_qatech.core.options import QATECH
from pytest_qatech.core.platforms import Settings
from pytest_qatech.core.providers.base import Provider
from pytest_qatech.core.providers.body import BodyError
from pytest_qatech.core.providers.qatech_start import (
    DEFAULT_PLAN,
    DEFAULT_PLAN_ID,
    parse_started,
)
from pytest_qatech.core.retry import RetryPolicy, may_have_acted, may_have_started, retry_for
from pytest_qatech.core.sending import ApiClient
from pytest_qatech.core.text import visible

#: The longest one start may take, its retries included.
START_SECONDS = 120.0


@dataclass(frozen=True)
class Starts:
    """What starting gave: the settings to wait with (the started runs added), the runs
    started, and a report for each start that failed."""

    settings: Settings
    started: tuple[StartedRun, ...] = ()
    failed: tuple[UnreadableRun, ...] = ()


def start_runs(
    settings: Settings,
    *,
    client: ApiClient | None = None,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
    rng: random.Random | None = None,
) -> Starts:
    """Start every run ``settings`` asks for, one after the other."""
    spec = settings.start
    if spec is None:
        return Starts(settings)
    source = settings.qatech()
    own_client = client is None
    api = client or Client(source.api_url, source.provider.auth_headers())
    clock = clock or SystemClock()
    retry = retry or retry_for(settings.poll_interval)
    rng = rng or random.Random()
    started, failed, labels = [], [], {}
    dashboard = source.provider.dashboard()
    try:
        for plan in spec.plans:
            what = DEFAULT_PLAN if plan is None else f"test plan {plan}"
            outcome = _start(
                api, spec.request(plan), clock, retry, rng, settings.timeout, source.provider
            )
            if isinstance(outcome, StartedRun):
                started.append(outcome)
                if plan is not None:
                    labels[outcome.run_id] = plan
                continue
            message, maybe_started = outcome
            message = f"{QATECH.title} could not start a run of {what}: {message}"
            if maybe_started:
                sentence = may_have_started(QATECH.title, "a run", dashboard)
                message += (
                    f"\n{sentence[0].upper()}{sentence[1:]}, and report on it with "
                    f"{QATECH.run_flag} SHORTID rather than start another."
                )
            failed.append(
                UnreadableRun(
                    QATECH.name,
                    plan or DEFAULT_PLAN_ID,
                    message,
                    url=dashboard,
                    start_of=what,
                    maybe_started=maybe_started,
                )
            )
    finally:
        if own_client and isinstance(api, Client):
            api.close()
    return Starts(settings.with_started(started, labels), tuple(started), tuple(failed))


def _start(
    client: ApiClient,
    request: ApiRequest,
    clock: Clock,
    retry: RetryPolicy,
    rng: random.Random,
    timeout: float,
    provider: Provider,
) -> StartedRun | tuple[str, bool]:
    """The run started, or why none was (and whether one may have been all the same)."""
    sent = f"{request.method} {client.url(request)}"
    deadline = clock.now() + min(timeout, START_SECONDS)
    failures = 0
    while True:
        try:
            body = client.fetch(request, time_left=max(0.1, deadline - clock.now()))
        except TransientError as error:
            if may_have_acted(error):
                return f"{sent} failed: {error}", True
            failures += 1
            delay = retry.delay(failures, error.retry_after, rng)
            if failures >= retry.max_attempts or clock.now() + delay >= deadline:
                return f"{sent} failed {failures} times; the last: {error}", False
            clock.sleep(delay)
            continue
        except FinalError as error:
            status = error.http_status
            hint = provider.hint(status, post=True) if status is not None else None
            message = f"{sent} failed: {error}" + (f"\nhint: {hint}" if hint else "")
            return message, may_have_acted(error)
        try:
            return parse_started(body, f"the answer to {sent}")
        except BodyError as error:
            return f"{sent} gave an unusable answer: {error}", may_have_acted(error)


def started_lines(started: Sequence[StartedRun], prefix: str) -> list[str]:
    """A line per run started: its short id, plan, size and page, for the log and people."""
    lines = []
    for run in started:
        plan = ", ".join(part for part in (run.plan_name, run.plan_id) if part)
        count = ""
        if run.test_count is not None:
            count = f"{run.test_count} {'case' if run.test_count == 1 else 'cases'}"
        about = "; ".join(part for part in (f"test plan {plan}" if plan else "", count) if part)
        line = f"{prefix} started {QATECH.title} run {run.run_id}" + (
            f" ({about})" if about else ""
        )
        lines.append(visible(line + (f": {run.url}" if run.url else "")))
    return lines
