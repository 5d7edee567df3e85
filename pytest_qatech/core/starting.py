"""Start the QA.tech runs a session asked for, before it waits for them.

Starting a run costs money, so a start is sent again only when it cannot have started a run: no
connection was made, or the server refused it unread (429). After a read timeout, a 5xx or an
answer that cannot be read, a run may have started: that is reported, with where to look,
and nothing is sent again. A start that fails stands in the report as a run that could not be
read, so the session is never green without the runs it asked for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.client import Client, FinalError, TransientError
from pytest_qatech.core.clock import Clock, SystemClock
from pytest_qatech.core.events import Listener, Noted, RequestFailed, silent
from pytest_qatech.core.models import StartedRun, UnreadableRun
from pytest_qatech.core.options import QATECH, TIMEOUT
from pytest_qatech.core.plan_cases import Choice, Selection, choose, not_found
from pytest_qatech.core.platforms import Settings
from pytest_qatech.core.providers.base import Provider
from pytest_qatech.core.providers.body import BodyError
from pytest_qatech.core.providers.qatech_start import (
    DEFAULT_PLAN_ID,
    TEST_CASES_PAGES,
    parse_started,
    parse_test_cases,
    plan_named,
    test_cases_request,
)
from pytest_qatech.core.retry import RetryPolicy, may_have_acted, may_have_started, retry_for
from pytest_qatech.core.sending import ApiClient
from pytest_qatech.core.text import counted, format_duration, visible

#: The longest one start may take, its retries included.
START_SECONDS = 120.0
#: How long starting takes before a line says how long it took.
SAID_SECONDS = 1.0


@dataclass(frozen=True)
class Starts:
    """What starting gave: the settings to wait with (the started runs added), the runs
    started, a report for each start that failed, and what pytest's selection chose of each
    plan it narrowed (a choice of no case started nothing)."""

    settings: Settings
    started: tuple[StartedRun, ...] = ()
    failed: tuple[UnreadableRun, ...] = ()
    choices: tuple[Choice, ...] = ()
    #: Why ids looked up by name could not be had, when they could not.
    lookup_problem: str | None = None
    #: Why nothing was started: node ids named cases that no test case has (a usage error).
    unknown: tuple[str, ...] = ()


def start_runs(
    settings: Settings,
    selections: Mapping[str, Selection] | None = None,
    *,
    client: ApiClient | None = None,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
    rng: random.Random | None = None,
    say: Listener = silent,
) -> Starts:
    """Start every run ``settings`` asks for, one after the other; a plan pytest selected
    among (``selections``, by plan) with only the cases selected, or none. What is being
    waited for is said as it begins, each retry, and how long it all took when it took long."""
    spec = settings.start
    if spec is None:
        return Starts(settings)
    selections = selections or {}
    source = settings.qatech()
    started, failed, labels = [], [], {}
    dashboard = source.provider.dashboard()
    with _sending(settings, client, clock, retry, rng, say) as send:
        began = send.clock.now()
        missing = {name for selection in selections.values() for name in selection.missing_ids()}
        asked = [(plan, name) for plan, sel in selections.items() for name in sel.unknown]
        listed, problem = _test_cases(send, source.provider) if missing or asked else ({}, None)
        absent = [(plan, name) for plan, name in asked if name not in listed]
        if absent and problem is None:
            # A mistyped node id costs nothing: no run is started.
            return Starts(
                settings,
                unknown=tuple(
                    not_found(
                        plan, name, [*(c.name for c in selections[plan].known.cases), *listed]
                    )
                    for plan, name in absent
                ),
            )
        found = _unique(listed, missing)
        choices = {plan: choose(selection, found) for plan, selection in selections.items()}
        for plan in spec.plans:
            what = plan_named(plan)
            choice = choices.get(plan) if plan is not None else None
            if choice is not None and choice.case_ids == ():
                continue  # pytest selected none of its cases: nothing is paid for
            request = spec.request(plan, choice.case_ids if choice is not None else None)
            say(Noted(QATECH.title, f"starting a run of {what}"))
            outcome = send.start(request, source.provider)
            refusal = outcome if isinstance(outcome, _Failed) and outcome.status == 400 else None
            if refusal is not None and choice is not None and choice.case_ids:
                # Refused unread: no run started. A case the cache knows may have left.
                choice = _after_refusal(send, source.provider, selections[choice.plan], choice)
                choices[choice.plan] = dataclasses.replace(choice, refused=refusal.message)
                if not choice.case_ids:
                    continue
                outcome = send.start(spec.request(choice.plan, choice.case_ids), source.provider)
            if isinstance(outcome, StartedRun):
                started.append(outcome)
                if plan is not None:
                    labels[outcome.run_id] = plan
                continue
            maybe_started = outcome.maybe
            message = f"{QATECH.title} could not start a run of {what}: {outcome.message}"
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
        took = send.clock.now() - began
        if took >= SAID_SECONDS:
            say(Noted(QATECH.title, f"starting took {format_duration(took)}"))
    return Starts(
        settings.with_started(started, labels),
        tuple(started),
        tuple(failed),
        tuple(choices.values()),
        problem,
    )


@dataclass(frozen=True)
class _Failed:
    """Why a request gave no answer to use; whether it may have acted all the same; and the
    HTTP status of a final refusal."""

    message: str
    maybe: bool = False
    status: int | None = None


@dataclass(frozen=True)
class _Sender:
    """Sends the requests of starting, each with the retries a request that cannot have acted
    may have, within ``seconds``, and all of them before ``deadline`` (``--qatech-timeout``
    from the first); each retry is said, as the wait says its own."""

    client: ApiClient
    clock: Clock
    retry: RetryPolicy
    rng: random.Random
    seconds: float
    deadline: float
    say: Listener

    def start(self, request: ApiRequest, provider: Provider) -> StartedRun | _Failed:
        """The run started, or why none was."""
        sent, body = self.send(request, provider)
        if isinstance(body, _Failed):
            return body
        try:
            return parse_started(body, f"the answer to {sent}")
        except BodyError as error:
            return _Failed(f"{sent} gave an unusable answer: {error}", may_have_acted(error))

    def send(self, request: ApiRequest, provider: Provider) -> tuple[str, object]:
        """The request in words, and its answer's body or why there is none."""
        client, clock = self.client, self.clock
        sent = f"{request.method} {client.url(request)}"
        now = clock.now()
        if now >= self.deadline:
            return sent, _Failed(f"{sent} was not sent: {TIMEOUT.flag} passed while starting")
        deadline = min(self.deadline, now + self.seconds)
        failures = 0
        while True:
            try:
                return sent, client.fetch(request, time_left=max(0.1, deadline - clock.now()))
            except TransientError as error:
                if request.method == "POST" and may_have_acted(error):
                    return sent, _Failed(f"{sent} failed: {error}", maybe=True)
                failures += 1
                delay = self.retry.delay(failures, error.retry_after, self.rng)
                if failures >= self.retry.max_attempts or clock.now() + delay >= deadline:
                    return sent, _Failed(f"{sent} failed {failures} times; the last: {error}")
                self.say(RequestFailed(QATECH.title, f"{sent} failed: {error}", delay))
                clock.sleep(delay)
            except FinalError as error:
                status = error.http_status
                post = request.method == "POST"
                hint = provider.hint(status, post=post) if status is not None else None
                message = f"{sent} failed: {error}" + (f"\nhint: {hint}" if hint else "")
                return sent, _Failed(message, post and may_have_acted(error), status)


def _test_cases(send: _Sender, provider: Provider) -> tuple[dict[str, list[str]], str | None]:
    """The ids of the project's test cases by name, read a page at a time to the list's end;
    and why the list could not be read to its end, if it could not."""
    send.say(Noted(QATECH.title, "reading the project's test cases"))
    seen: dict[str, list[str]] = {}
    offset = 0
    for _ in range(TEST_CASES_PAGES):
        sent, body = send.send(test_cases_request(offset), provider)
        if isinstance(body, _Failed):
            return seen, body.message
        try:
            cases, total = parse_test_cases(body, offset)
        except BodyError as error:
            return seen, f"{sent} gave an unusable answer: {error}"
        for name, case_id in cases:
            seen.setdefault(name, []).append(case_id)
        offset += len(cases)
        if not cases or offset >= total:
            break
    return seen, None


def project_test_cases(
    settings: Settings,
    *,
    client: ApiClient | None = None,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
    say: Listener = silent,
) -> tuple[dict[str, list[str]], str | None]:
    """The ids of the QA.tech project's test cases by name, read to the list's end; and why the
    list could not be read to its end, if it could not."""
    with _sending(settings, client, clock, retry, None, say) as send:
        return _test_cases(send, settings.qatech().provider)


@contextlib.contextmanager
def _sending(
    settings: Settings,
    client: ApiClient | None,
    clock: Clock | None,
    retry: RetryPolicy | None,
    rng: random.Random | None,
    say: Listener,
) -> Iterator[_Sender]:
    """What sends the requests of starting: through ``client``, else a client of its own to the
    QA.tech API, closed at the end; each request within the start's time, all within the
    wait's timeout."""
    source = settings.qatech()
    api = client or Client(source.api_url, source.provider.auth_headers())
    clock = clock or SystemClock()
    try:
        yield _Sender(
            api,
            clock,
            retry or retry_for(settings.poll_interval),
            rng or random.Random(),
            min(settings.timeout, START_SECONDS),
            clock.now() + settings.timeout,
            say,
        )
    finally:
        if client is None and isinstance(api, Client):
            api.close()


def _after_refusal(
    send: _Sender, provider: Provider, selection: Selection, choice: Choice
) -> Choice:
    """What to start once a narrowed start was refused unread: the project's test cases are read
    again; the selected cases gone from them are dropped, and those left started by the ids the
    list gives them, if that differs from what was refused. Otherwise nothing (no case ids): a
    run of the whole plan might report none of what was selected, and be paid for all the same."""
    listed, problem = _test_cases(send, provider)
    if problem is not None:
        return dataclasses.replace(choice, case_ids=(), recheck=problem)
    names = selection.known.names(selection.places)
    gone = tuple(name for name in names if name not in listed)
    left = _unique(listed, set(names) - set(gone))
    ids = tuple(dict.fromkeys(left[name] for name in names if name in left))
    return dataclasses.replace(choice, case_ids=ids if ids != choice.case_ids else (), gone=gone)


def _unique(seen: Mapping[str, Sequence[str]], names: set[str]) -> dict[str, str]:
    """The id of each of ``names`` that one test case alone has (a name two test cases share
    has none)."""
    return {name: ids[0] for name, ids in seen.items() if name in names and len(set(ids)) == 1}


def started_lines(started: Sequence[StartedRun], prefix: str) -> list[str]:
    """A line per run started: its short id, plan, size and page, for the log and people."""
    lines = []
    for run in started:
        plan = ", ".join(part for part in (run.plan_name, run.plan_id) if part)
        count = ""
        if run.test_count is not None:
            count = counted(run.test_count, "case")
        about = "; ".join(part for part in (f"test plan {plan}" if plan else "", count) if part)
        line = f"{prefix} started {QATECH.title} run {run.run_id}" + (
            f" ({about})" if about else ""
        )
        lines.append(visible(line + (f": {run.url}" if run.url else "")))
    return lines
