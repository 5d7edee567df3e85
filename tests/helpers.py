"""What several test modules share: fake time, a scripted API for the wait loop, an observer that
records, and the simulated runs the end-to-end tests use."""

from __future__ import annotations

import http.server
import importlib.metadata
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.events import (
    Decided,
    Ended,
    Interrupted,
    Listener,
    Noted,
    Progressed,
    RequestFailed,
    Said,
    StatusChanged,
    StillWaiting,
    Waiting,
    Warned,
    hearing,
)
from pytest_qatech.core.models import RemoteCase, RunReport
from pytest_qatech.core.providers.base import Progress, Provider
from pytest_qatech.core.sending import Sender, SerialSender
from pytest_qatech.core.waiting import Job, Target, Wait
from pytest_qatech.simulator import SimulatedRun, Simulator, case, demo_runs
from pytest_qatech.simulator.base import Scripted as ScriptedRun


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


#: pytest-xdist is supported, not required: .ci/run also runs the sessions without it. Asked of
#: the installed distributions: an uninstalled xdist leaves the bytecode pytest rewrote behind,
#: which imports as an empty namespace package.
XDIST = _installed("pytest-xdist")
#: Fast polling against the simulator: its runs advance per request, not per second.
FAST = ("--qatech-poll-interval", "0.01")
LOCAL_TEST = "def test_local():\n    assert True\n"
FAILING_TEST = "def test_local_fails():\n    assert 1 == 2\n"


class FakeClock:
    def __init__(self) -> None:
        self.time = 1000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.time += seconds


#: What a scripted API gives for a request: a JSON body, or an exception to raise.
Scripted = object


@dataclass
class FakeApi:
    """A scripted API for the wait loop, on a fake clock.

    Per run: the answers to its light polls (the last one repeats) and to its full reads (the
    last one repeats; a COMPLETED run without cases if none); per case short id, the answers
    to its details requests and its trace requests (the last one repeats). ``log`` has (seconds
    since 1000, kind, id) for each request, kind being ``poll``, ``read``, ``case``, ``trace`` or
    ``rerun``.
    """

    clock: FakeClock
    polls: dict[str, Sequence[Scripted]]
    reads: dict[str, Sequence[Scripted]] = field(default_factory=dict)
    cases: dict[str, Sequence[Scripted]] = field(default_factory=dict)
    #: Per run short id: the answers to POSTs that rerun it (the last one repeats).
    reruns: dict[str, Sequence[Scripted]] = field(default_factory=dict)
    #: Per case short id: the answers to its trace requests, in turn (the last one repeats).
    traces: dict[str, Sequence[Scripted]] = field(default_factory=dict)
    log: list[tuple[float, str, str]] = field(default_factory=list)
    #: The body of each POST, as JSON, with the id it was sent for.
    posted: list[tuple[str, object]] = field(default_factory=list)
    #: Polls list the run's cases (``testCases=all``), and there are no separate reads.
    listing: bool = False

    def url(self, request: ApiRequest) -> str:
        return "https://api.test" + request.path

    def fetch(self, request: ApiRequest, time_left: float | None = None) -> object:
        key = request.path.rsplit("/", 1)[-1]
        if key == "trace":
            key = request.path.rsplit("/", 2)[-2]
            kind, script = "trace", self.traces[key]
        elif request.body is not None:
            kind, script = "rerun", self.reruns[key]
            self.posted.append((key, json.loads(request.body)))
        elif request.path.startswith("/v1/run-test-case/"):
            kind, script = "case", self.cases[key]
        elif request.params and not self.listing:
            kind, script = "read", self.reads.get(key) or [qatech_run(key, "COMPLETED", [])]
        else:
            kind, script = "poll", self.polls[key]
        count = sum(1 for _, k, i in self.log if (k, i) == (kind, key))
        self.log.append((self.clock.now() - 1000.0, kind, key))
        answer = script[min(count, len(script) - 1)]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def made(self, kind: str) -> list[str]:
        return [key for _, k, key in self.log if k == kind]


def qatech_run(
    short_id: str, status: str, cases: list[Any] | None = None, result: Any = "unset"
) -> dict[str, Any]:
    """A ``GetRunResponse`` of QA.tech's "Get run" OpenAPI definition."""
    ended = status in ("COMPLETED", "ERROR", "CANCELLED")
    return {
        "id": "6c1f3a2e-0000-4000-8000-000000000001",
        "shortId": short_id,
        "status": status,
        "result": ("PASSED" if ended else None) if result == "unset" else result,
        "runTestCases": cases if cases is not None else [],
    }


def qatech_case(
    name: str,
    result: str | None = "PASSED",
    *,
    short_id: str,
    status: str = "COMPLETED",
    title: str | None = None,
    thought: str | None = None,
    goal: str | None = None,
) -> dict[str, Any]:
    """A ``RunTestCase`` of QA.tech's "Get run" OpenAPI definition, every required field set."""
    return {
        "id": f"6c1f3a2e-0000-4000-8000-{short_id.encode().hex()[:12].ljust(12, '0')}",
        "shortId": short_id,
        "name": name,
        "status": status,
        "result": result,
        "resultTitle": title,
        "evaluationThought": thought,
        "promptGoal": goal,
        "promptExamples": None,
    }


#: A details answer (``GET /v1/run-test-case/{shortId}``) for case tc2, every field the issue
#: tracker names for that endpoint set.
TC2_DETAILS = {
    "shortId": "tc2",
    "durationMs": 42_500,
    "errorCode": "TEST_FAILED",
    "url": "https://app.qa.tech/case/tc2",
    "screenshotUrl": "https://media.example/tc2.png",
    "recordingUrl": "https://media.example/tc2.webm",
    "startedAt": "2026-06-10T16:02:11Z",
    "completedAt": "2026-06-10T16:02:53.500Z",
}


@dataclass
class RecordingListener:
    """Hears what a wait says, as short lines; ``live_interval`` is for the wait to be given."""

    lines: list[str] = field(default_factory=list)
    live_interval: float | None = None

    def __call__(self, said: Said) -> None:
        match said:
            case Waiting(elapsed, runs):
                shown = ", ".join(f"{run.run} {run.status} {run.cases}".rstrip() for run in runs)
                self.lines.append(
                    f"live at {elapsed:g}: {shown}" if runs else f"live cleared at {elapsed:g}"
                )
            case StatusChanged(run, status, elapsed):
                self.lines.append(f"{run} {status} at {elapsed:g}")
            case StillWaiting(run, status, elapsed):
                self.lines.append(f"{run} still {status} at {elapsed:g}")
            case RequestFailed(run, message, _):
                self.lines.append(f"{run} failed: {message}")
            case Interrupted(run, status, _):
                self.lines.append(f"{run} interrupted {status}")
            case Warned(run, message):
                self.lines.append(f"{run} warning: {message}")
            case Noted(run, message):
                self.lines.append(f"{run} note: {message}")


def mixed_run(short_id: str = "abc123") -> SimulatedRun:
    """A finished run with one case of each verdict."""
    return SimulatedRun(
        short_id,
        result="FAILED",
        cases=[
            case("Login flow test", "PASSED", goal="Log in", short_id="tc1"),
            case(
                "Checkout",
                "FAILED",
                title="Could not find login button",
                thought="The login button was not visible on the page.",
                goal="Test the checkout flow",
                short_id="tc2",
            ),
            case("Newsletter", "SKIPPED", title="Feature flag off", short_id="tc3"),
        ],
    )


#: What mixed_run() costs a pytest session: three polls that list the cases (INITIATED, RUNNING,
#: COMPLETED; the last is the read), then the details of the failed and the skipped case (in
#: either order: they are read in parallel).
MIXED_RUN_REQUESTS = [
    ("/v1/run/abc123", {"testCases": ["all"]}),
    ("/v1/run/abc123", {"testCases": ["all"]}),
    ("/v1/run/abc123", {"testCases": ["all"]}),
    ("/v1/run-test-case/tc2", {}),
    # The failed case's agent trace, once its details are in: the skip shows no traceback.
    ("/v1/run-test-case/tc2/trace", {"limit": ["25"], "offset": ["0"]}),
    ("/v1/run-test-case/tc3", {}),
]


def requests_made(simulator: Simulator) -> list[tuple[str, dict[str, list[str]]]]:
    """The requests the simulator received, in order, except that the details requests that
    follow a run's read are sorted: they are sent in parallel."""
    made = [(request.path, request.query) for request in simulator.requests]
    reads = [i for i, (_, query) in enumerate(made) if "testCases" in query]
    start = reads[-1] + 1 if reads else len(made)
    return made[:start] + sorted(made[start:], key=lambda request: request[0])


@dataclass
class RecordingStream:
    """A listener that notes, with the fake time, each fact the wait learns (and lets what it
    says pass); and says which runs are still wanted."""

    clock: FakeClock
    events: list[str] = field(default_factory=list)
    moments: list[list[str]] = field(default_factory=list)
    #: Run ids the front end wants no more.
    unwanted: set[str] = field(default_factory=set)
    #: Each status answer as heard.
    heard: list[Progress] = field(default_factory=list)

    def __call__(self, said: Said) -> None:
        match said:
            case Progressed(provider, run_id, progress):
                self.progressed((provider, run_id), progress)
            case Decided(_, _, cases):
                self.decided(cases)
            case Ended(_, _, report):
                self.events.append(f"{self.clock.time - 1000:g} ended {type(report).__name__}")

    def progressed(self, run: tuple[str, str], progress: Progress) -> None:
        self.heard.append(progress)
        listed = [f"{c.key}{'' if c.verdict is None else '=' + c.verdict.outcome.value}"
                  for c in progress.cases or ()]  # fmt: skip
        self.events.append(f"{self.clock.time - 1000:g} {progress.status} {' '.join(listed)}")

    def decided(self, cases: Sequence[RemoteCase]) -> None:
        for decided in cases:
            duration = "" if decided.duration is None else f" {decided.duration:g}s"
            self.events.append(
                f"{self.clock.time - 1000:g} {decided.key} {decided.outcome.value}{duration}"
            )
        # Each call's keys: the verdicts told at one moment.
        self.moments.append([decided.key for decided in cases])

    def wanted(self, provider: str, run_id: str) -> bool:
        return run_id not in self.unwanted


def demo_by_requests() -> list[ScriptedRun]:
    """The README demo's runs, moved on by requests rather than by the clock: the same answers,
    without the demo's two seconds of waiting, and their requests can be counted."""
    runs = demo_runs()
    for run in runs:
        run.step_seconds = None
    return runs


def run_session(
    pytester: pytest.Pytester, *args: str | os.PathLike[str], timeout: float | None = None
) -> pytest.RunResult:
    """A pytest session in this process (a tenth of a second), unless it goes wide: xdist's
    workers are processes of their own, so a session with ``-n`` or ``-d`` runs in one too."""
    if "-n" in args or "-d" in args:
        return pytester.runpytest_subprocess(*args, timeout=timeout)
    return pytester.runpytest_inprocess(*args)


def progress_marks(result: pytest.RunResult, provider: str = "qatech") -> str:
    """The progress marks of a provider's items, in order, wherever a status line split them
    (between two items, never inside one: the run goes on while they report)."""
    prefix = f"{provider} "
    return "".join(line.split()[1] for line in result.outlines if line.startswith(prefix))


def echo(headers: Mapping[str, str]) -> dict[str, str]:
    """What a careless server says when it refuses a request: everything it was sent."""
    return {"error": "denied", "message": f"refused request with headers {dict(headers)}"}


#: Long enough never to pass on a working machine; only a broken one gets there.
BOUND = 30.0


class HeldServer:
    """A server on 127.0.0.1 that holds every GET until told to let them all go."""

    def __init__(self) -> None:
        self.arrived = 0
        self.changed = threading.Condition()
        self.released = threading.Event()
        held = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with held.changed:
                    held.arrived += 1
                    held.changed.notify_all()
                held.released.wait(BOUND)
                self.send_response(200)
                self.send_header("Content-Length", "1")
                self.end_headers()
                self.wfile.write(b"x")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # Closing the server joins the threads of the requests it held: none is left behind.
        self.server.daemon_threads = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever)

    def __enter__(self) -> HeldServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(BOUND)


def wait_on(
    api: FakeApi,
    provider: Provider,
    run_ids: Sequence[str],
    *,
    say: Listener | None = None,
    sender: Sender[Job] | None = None,
    stream: RecordingStream | None = None,
    **options: Any,
) -> list[RunReport]:
    """A wait for ``run_ids`` on the fake API and its clock, polling every 10 s for at most an
    hour unless ``options`` (the wait's own) say otherwise; the reports, in order. ``stream``
    hears it too, and says which runs are wanted."""
    options = {"poll_interval": 10.0, "timeout": 3600.0, **options}
    listener = say or RecordingListener()
    if stream is not None:
        listener = hearing(listener, stream)
        options["wanted"] = stream.wanted
    return Wait(
        [Target(provider, api, run_id) for run_id in run_ids],
        say=listener,
        clock=api.clock,
        sender=sender or SerialSender(),
        **options,
    ).run()
