"""A loopback stand-in for the three platforms' run APIs, for tests and the demo.

It answers as each reference describes:

- QA.tech, ``GET /v1/run/{shortId}``: Bearer token; ``runTestCases`` empty without
  ``testCases``, 400 for a ``testCases`` other than ``all``/``failed``; ``{"message": ...}``
  error bodies. ``GET /v1/run-test-case/{shortId}`` gives each case's details (duration, error
  code, links) with the fields pytest-qatech's issue tracker names.
- TestVibe, ``GET /api/v1/ops/projects/{project}/runs/{runId}``: Bearer key; ``summary``,
  ``tests``, ``artifacts`` and (unless passed) ``log`` once the run has ended; 404
  ``not_found``.
- Autonoma, ``GET /run/{run_id}``: ``autonoma-client-id`` and ``autonoma-client-secret``
  headers; ``steps`` only with ``steps=true``, media links only with ``media=true``;
  ``{"error", "message"}`` bodies for 401 and 404.

A scripted run moves one status further on each status request (a request that is not the
full read), so progress depends on requests, never on time. Any request to a run can be
answered with a scripted :class:`Answer` instead, to inject faults: any status code and headers
(``Retry-After``), any body (malformed, HTML), a dropped connection, a delay, a truncated body.

    python -m pytest_qatech.simulator -- pytest --qatech-run abc123

starts the simulator on 127.0.0.1 with the demo runs, runs the command with every platform's
URL and credentials variables pointing at it, and exits with its exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

DEFAULT_TOKEN = "simulator-token"
TESTVIBE_KEY = "testvibe-simulator-key"
TESTVIBE_PROJECT = "demo-project"
AUTONOMA_CLIENT_ID = "autonoma-simulator-id"
AUTONOMA_CLIENT_SECRET = "autonoma-simulator-secret"
ENDED = ("COMPLETED", "ERROR", "CANCELLED")
_STARTED = "2026-06-10T16:02:11Z"
_ENDED = "2026-06-10T16:02:54Z"
_MEDIA = "https://media.simulator.invalid"
_QATECH_APP = "https://app.qatech.simulator.invalid"


def case(
    name: str,
    result: str | None = "PASSED",
    *,
    status: str = "COMPLETED",
    title: str | None = None,
    thought: str | None = None,
    goal: str | None = None,
    short_id: str | None = None,
) -> dict[str, Any]:
    """A RunTestCase body with every field the OpenAPI definition requires."""
    key = short_id or f"tc{zlib.crc32(name.encode()) % 10**6:06d}"
    return {
        "id": f"00000000-0000-4000-8000-{key.encode().hex()[:12].ljust(12, '0')}",
        "shortId": key,
        "name": name,
        "status": status,
        "result": result,
        "resultTitle": title,
        "evaluationThought": thought,
        "promptGoal": goal,
        "promptExamples": None,
    }


@dataclass
class Answer:
    """A scripted HTTP answer; ``body`` goes out as is (bytes) or as JSON."""

    status: int = 200
    body: bytes | dict[str, Any] | list[Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Close the connection without answering at all.
    drop: bool = False
    #: Seconds to wait before answering, as a slow server would.
    delay: float = 0.0
    #: Announce the whole body but send only its first half, then close the connection.
    truncate: bool = False


class _Served:
    """Something the simulator answers for at one path, with scripted answers by request index.

    Subclasses are dataclasses with the fields ``answers`` and ``requests``, a ``path`` and a
    ``respond`` method.
    """

    answers: dict[int, Answer]
    requests: int

    @property
    def path(self) -> str:
        raise NotImplementedError

    def endpoints(self) -> list[_Served]:
        """Everything to serve for this object: itself, and any paths it brings along."""
        return [self]

    def respond(self, query: dict[str, list[str]]) -> Answer:
        raise NotImplementedError


class _Scripted(_Served):
    """A simulated run: a status script, moved on by each status request.

    Subclasses also have the fields ``statuses`` and ``light_polls``.
    """

    statuses: Sequence[str]
    light_polls: int

    def current_status(self, advance: bool) -> str:
        last = len(self.statuses) - 1
        if advance:
            status = self.statuses[min(self.light_polls, last)]
            self.light_polls += 1
            return status
        return self.statuses[min(max(self.light_polls - 1, 0), last)]


@dataclass
class SimulatedRun(_Scripted):
    """A QA.tech run."""

    short_id: str
    result: str | None = "PASSED"
    cases: list[Any] = field(default_factory=list)
    statuses: Sequence[str] = ("INITIATED", "RUNNING", "COMPLETED")
    #: Per case short id: fields to change in its details, or None for no details (a 404).
    details: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    #: Scripted answers by the index of the request to this run (0 is the first request).
    answers: dict[int, Answer] = field(default_factory=dict)
    light_polls: int = 0
    requests: int = 0

    @property
    def path(self) -> str:
        return f"/v1/run/{quote(self.short_id, safe='')}"

    def endpoints(self) -> list[_Served]:
        served: list[_Served] = [self]
        for raw in self.cases:
            if isinstance(raw, dict) and isinstance(raw.get("shortId"), str):
                changes = self.details.get(raw["shortId"], {})
                if changes is not None:
                    body = {**_qatech_case_details(self.short_id, raw), **changes}
                    served.append(SimulatedCaseDetails(raw["shortId"], body))
        return served

    def respond(self, query: dict[str, list[str]]) -> Answer:
        test_cases = query.get("testCases", [None])[-1]
        if test_cases not in (None, "all", "failed"):
            return Answer(400, {"message": "Invalid query parameters: testCases"})
        status = self.current_status(advance=test_cases is None)
        return Answer(200, self.body(test_cases, status))

    def body(self, test_cases: str | None, status: str) -> dict[str, Any]:
        ended = status in ENDED
        cases: list[Any] = []
        if test_cases is not None:
            # Cases go out as scripted, malformed ones included: tests feed the plugin garbage.
            cases = [
                {**raw, "status": "RUNNING", "result": None}
                if isinstance(raw, dict) and not ended
                else raw
                for raw in self.cases
            ]
            if test_cases == "failed":
                cases = [
                    raw
                    for raw in cases
                    if not isinstance(raw, dict) or raw.get("result") != "PASSED"
                ]
        return {
            "id": f"run-{self.short_id}",
            "shortId": self.short_id,
            "status": status,
            "result": self.result if ended else None,
            "runTestCases": cases,
        }


def _qatech_case_details(run_id: str, raw: dict[str, Any]) -> dict[str, Any]:
    short_id = raw["shortId"]
    duration_ms = 20_000 + zlib.crc32(short_id.encode()) % 40_000
    started = datetime(2026, 6, 10, 16, 2, 11)
    completed = started + timedelta(milliseconds=duration_ms)
    return {
        "id": raw.get("id"),
        "shortId": short_id,
        "name": raw.get("name"),
        "status": raw.get("status"),
        "result": raw.get("result"),
        "durationMs": duration_ms,
        "errorCode": "TEST_FAILED" if raw.get("result") == "FAILED" else None,
        "url": f"{_QATECH_APP}/results/{run_id}/{short_id}",
        "screenshotUrl": f"{_MEDIA}/qatech/{short_id}.png",
        "recordingUrl": f"{_MEDIA}/qatech/{short_id}.webm",
        "startedAt": started.isoformat(timespec="milliseconds") + "Z",
        "completedAt": completed.isoformat(timespec="milliseconds") + "Z",
    }


@dataclass
class SimulatedCaseDetails(_Served):
    """QA.tech's details of one case, ``GET /v1/run-test-case/{shortId}``."""

    short_id: str
    body: dict[str, Any]
    answers: dict[int, Answer] = field(default_factory=dict)
    requests: int = 0

    @property
    def path(self) -> str:
        return f"/v1/run-test-case/{quote(self.short_id, safe='')}"

    def respond(self, query: dict[str, list[str]]) -> Answer:
        return Answer(200, self.body)


def vibe_test(
    name: str, status: str = "passed", *, duration_ms: int = 1000, error: str | None = None
) -> dict[str, Any]:
    """One entry of a TestVibe run's ``tests``."""
    return {"name": name, "status": status, "durationMs": duration_ms, "error": error}


@dataclass
class SimulatedTestVibeRun(_Scripted):
    """A TestVibe run; it ends ``failed`` if a test did not pass, else ``passed``."""

    run_id: int
    tests: list[Any] = field(default_factory=list)
    #: Empty: ("running", "running", <passed or failed>).
    statuses: Sequence[str] = ()
    artifacts: list[Any] = field(default_factory=list)
    log: str | None = None
    project: str = TESTVIBE_PROJECT
    answers: dict[int, Answer] = field(default_factory=dict)
    light_polls: int = 0
    requests: int = 0

    def __post_init__(self) -> None:
        if not self.statuses:
            failed = any(
                not isinstance(test, dict) or test.get("status") != "passed" for test in self.tests
            )
            self.statuses = ("running", "running", "failed" if failed else "passed")

    @property
    def path(self) -> str:
        return f"/api/v1/ops/projects/{quote(self.project, safe='')}/runs/{self.run_id}"

    def respond(self, query: dict[str, list[str]]) -> Answer:
        status = self.current_status(advance=True)
        body: dict[str, Any] = {
            "runId": self.run_id,
            "status": status,
            "featureId": 12,
            "featureName": "Login Functionality",
            "config": "Default",
            "siteUrl": "https://shop.acme.example",
            "createdUtc": _STARTED,
            "startedUtc": _STARTED,
            "finishedUtc": None if status == "running" else _ENDED,
        }
        if status != "running":
            counts = [test.get("status") if isinstance(test, dict) else None for test in self.tests]
            passed, failed = counts.count("passed"), counts.count("failed")
            body["summary"] = {
                "total": len(counts),
                "passed": passed,
                "failed": failed,
                "other": len(counts) - passed - failed,
            }
            body["tests"] = self.tests
            body["artifacts"] = self.artifacts
            if status != "passed" and self.log is not None:
                body["log"] = self.log
        return Answer(200, body)


def step(
    instruction: str,
    status: str = "passed",
    *,
    interaction: str = "click",
    output: str | None = None,
    url: str = "https://app.acme.example/",
    selector: str | None = None,
) -> dict[str, Any]:
    """One step of an Autonoma run, as ``steps=true`` returns it (``image`` is added with
    ``media=true``)."""
    key = f"{zlib.crc32(instruction.encode()):08x}"
    return {
        "id": f"step{key}",
        "instruction": instruction,
        "interaction": interaction,
        "output": output or f"{interaction} done",
        "status": status,
        "url": url,
        "element": {"html": "<button>…</button>", "selector": selector or "button"},
        "image": f"{_MEDIA}/screenshots/{key}.jpeg",
    }


@dataclass
class SimulatedAutonomaRun(_Scripted):
    """An Autonoma test run; it ends ``failed`` if a step failed, else ``passed``."""

    run_id: str
    name: str
    steps: list[Any] = field(default_factory=list)
    folder: str | None = None
    #: Empty: ("pending", "running", <passed or failed>).
    statuses: Sequence[str] = ()
    answers: dict[int, Answer] = field(default_factory=dict)
    light_polls: int = 0
    requests: int = 0

    def __post_init__(self) -> None:
        if not self.statuses:
            failed = any(isinstance(s, dict) and s.get("status") == "failed" for s in self.steps)
            self.statuses = ("pending", "running", "failed" if failed else "passed")

    @property
    def path(self) -> str:
        return f"/run/{quote(self.run_id, safe='')}"

    def respond(self, query: dict[str, list[str]]) -> Answer:
        with_steps = query.get("steps", ["false"])[-1] == "true"
        media = query.get("media", ["false"])[-1] == "true"
        status = self.current_status(advance=not with_steps)
        ended = status not in ("pending", "running")
        body: dict[str, Any] = {
            "id": self.run_id,
            "name": self.name,
            "test_id": f"test-{zlib.crc32(self.name.encode()):08x}",
            "status": status,
            "created_at": _STARTED,
            "ended_at": _ENDED if ended else None,
            "folder_run_id": None,
            "job_run_id": None,
            "job_id": None,
            "folder": {"id": f"folder-{self.folder}", "name": self.folder} if self.folder else None,
            "video_url": f"{_MEDIA}/videos/{self.run_id}.mp4" if media and ended else None,
            "metadata": {"source": "api", "version": "STG", "architecture": "web"},
        }
        if with_steps:
            body["steps"] = [
                raw if media or not isinstance(raw, dict) else {**raw, "image": None}
                for raw in self.steps
            ]
        return Answer(200, body)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    query: dict[str, list[str]]
    authorized: bool
    #: time.monotonic() when the request arrived.
    at: float


@dataclass(frozen=True)
class _Platform:
    """How one platform's API says "unauthorized" and "not found", and whom it lets in."""

    prefix: str
    credentials: Mapping[str, str]
    unauthorized: Answer
    not_found: Answer

    def authorized(self, headers: Mapping[str, str]) -> bool:
        return all(headers.get(name) == value for name, value in self.credentials.items())


def demo_runs() -> list[_Scripted]:
    """The runs the README demos show, on every platform: passes, readable failures, a skip."""
    return [
        SimulatedRun(
            "abc123",
            result="FAILED",
            cases=[
                case(
                    "Login flow test",
                    "PASSED",
                    goal="Log in with the demo account and reach the dashboard",
                    short_id="tc0001",
                ),
                case(
                    "Checkout with saved card",
                    "FAILED",
                    title="Could not find the 'Pay now' button",
                    thought=(
                        "The agent added an item to the cart and opened the checkout page. "
                        "After choosing the saved card, the 'Pay now' button never became "
                        "visible; the page showed a spinner for 30 seconds and then an empty "
                        "payment panel."
                    ),
                    goal="Buy one item with the saved card and see the order confirmation",
                    short_id="tc0002",
                ),
                case(
                    "Newsletter signup",
                    "SKIPPED",
                    title="Skipped: the newsletter feature flag is off in this environment",
                    goal="Sign up for the newsletter from the footer",
                    short_id="tc0003",
                ),
            ],
        ),
        SimulatedRun(
            "green1",
            result="PASSED",
            cases=[case("Search finds a product", short_id="tc0101")],
        ),
        # TestVibe's own example run, as its get_run reference shows it.
        SimulatedTestVibeRun(
            214,
            tests=[
                vibe_test("Valid user signs in", duration_ms=4210),
                vibe_test("Invalid password is rejected", duration_ms=3804),
                vibe_test(
                    "Locked-out user sees an error",
                    "failed",
                    duration_ms=9120,
                    error="expect(locator).toBeVisible() failed — "
                    "locator('[data-test=\"error\"]') not found within 5000ms",
                ),
            ],
            artifacts=[
                {"kind": "trace", "path": "trace/locked-out-user.zip", "size": 482133},
                {"kind": "screenshot", "path": "screenshots/locked-out-user.png", "size": 88241},
            ],
            log=(
                "[16:02:45] Locked-out user sees an error\n"
                "[16:02:45]   fill #user-name locked_out_user\n"
                "[16:02:46]   click #login-button\n"
                "[16:02:54]   waiting for locator('[data-test=\"error\"]') timed out"
            ),
        ),
        SimulatedTestVibeRun(215, tests=[vibe_test("Valid user signs in", duration_ms=3980)]),
        SimulatedAutonomaRun(
            "gch7uesq5h6m9xe2fdq5ddgd",
            "Add 'member' to network, verify it can access the listings",
            folder="private-listing-hub",
            steps=[
                step("open the login page", interaction="navigate"),
                step(
                    "insert {{variable:QA_ADMIN_USER}} into log in input",
                    interaction="input-text",
                    output="input-text on element with text admin@acme.example",
                    selector="input#username",
                ),
                step(
                    "click the 'Add member' button",
                    "failed",
                    output="no element matches the description 'Add member' button",
                    url="https://app.acme.example/network",
                    selector="button[data-test=add-member]",
                ),
                step("verify the member sees the listings", "pending"),
            ],
        ),
        SimulatedAutonomaRun(
            "k2d9xq7mm3v0w1p4r8s6t5ua",
            "Search for a listing by city",
            folder="private-listing-hub",
            steps=[
                step("open the listings page", interaction="navigate"),
                step("type 'Lisbon' into the search box", interaction="input-text"),
            ],
        ),
    ]


def environment(url: str) -> dict[str, str]:
    """The variables that point every platform's settings at a simulator on ``url``."""
    return {
        "QATECH_API_URL": url,
        "QATECH_API_TOKEN": DEFAULT_TOKEN,
        "TESTVIBE_SERVER": url,
        "TESTVIBE_PROJECT": TESTVIBE_PROJECT,
        "TESTVIBE_API_KEY": TESTVIBE_KEY,
        "AUTONOMA_API_URL": url,
        "AUTONOMA_CLIENT_ID": AUTONOMA_CLIENT_ID,
        "AUTONOMA_CLIENT_SECRET": AUTONOMA_CLIENT_SECRET,
    }


class Simulator:
    """The simulated APIs, served on 127.0.0.1 from a background thread."""

    def __init__(
        self,
        runs: Iterable[_Served] = (),
        *,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.runs: dict[str, _Served] = {
            served.path: served for run in runs for served in run.endpoints()
        }
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Simulator({self.url!r})"

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, *runs: _Served) -> None:
        with self._lock:
            for run in runs:
                self.runs.update((served.path, served) for served in run.endpoints())

    def requests_for(self, run_id: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/").endswith(f"/{run_id}")]

    def start(self) -> Simulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="qatech-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _platforms(self) -> tuple[_Platform, ...]:
        return (
            _Platform(
                "/v1/run/",
                {"authorization": f"Bearer {self.token}"},
                Answer(401, {"message": "Missing or invalid API key"}),
                Answer(404, {"message": "Run not found"}),
            ),
            _Platform(
                "/v1/run-test-case/",
                {"authorization": f"Bearer {self.token}"},
                Answer(401, {"message": "Missing or invalid API key"}),
                Answer(404, {"message": "Test case not found"}),
            ),
            _Platform(
                "/api/v1/ops/projects/",
                {"authorization": f"Bearer {TESTVIBE_KEY}"},
                Answer(401, {"error": "unauthorized", "message": "Invalid API key"}),
                Answer(404, {"error": "not_found", "message": "No such run in this project."}),
            ),
            _Platform(
                "/run/",
                {
                    "autonoma-client-id": AUTONOMA_CLIENT_ID,
                    "autonoma-client-secret": AUTONOMA_CLIENT_SECRET,
                },
                Answer(
                    401, {"error": "Unauthorized", "message": "Invalid authentication credentials"}
                ),
                Answer(404, {"error": "Not found", "message": "Resource not found"}),
            ),
        )

    def answer(self, path: str, query: dict[str, list[str]], headers: Mapping[str, str]) -> Answer:
        """The answer to a GET; ``headers`` has lower-case names."""
        platform = next((p for p in self._platforms() if path.startswith(p.prefix)), None)
        authorized = platform is not None and platform.authorized(headers)
        with self._lock:
            self.requests.append(RecordedRequest(path, query, authorized, time.monotonic()))
            if platform is None:
                return Answer(404, {"message": f"Cannot GET {path}"})
            run = self.runs.get(path)
            if run is not None:
                index = run.requests
                run.requests += 1
                if index in run.answers:
                    return run.answers[index]
            if not authorized:
                return platform.unauthorized
            if run is None:
                return platform.not_found
            return run.respond(query)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a read timeout, an interrupt) is part of the simulation.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(simulator: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes; with Nagle's algorithm the second waits for
        # the client's delayed ACK, some 40 ms per request on a kept-alive connection.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = simulator.answer(parts.path, parse_qs(parts.query), headers)
            if answer.delay:
                simulator._stopping.wait(answer.delay)
            if answer.drop:
                self.close_connection = True
                self.connection.close()
                return
            body = answer.body
            if isinstance(body, bytes):
                payload, content_type = body, "application/octet-stream"
            elif isinstance(body, str):
                payload, content_type = body.encode(), "text/html; charset=utf-8"
            elif body is None:
                payload, content_type = b"", "text/plain"
            else:
                payload, content_type = json.dumps(body).encode(), "application/json"
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.headers.get("Content-Type", content_type))
            for name, value in answer.headers.items():
                if name != "Content-Type":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if answer.truncate:
                self.wfile.write(payload[: len(payload) // 2])
                self.close_connection = True
                return
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_qatech.simulator",
        description="Serve the simulated QA.tech, TestVibe and Autonoma APIs on 127.0.0.1 with "
        "the demo runs (QA.tech abc123: a pass, a failure and a skip; green1: all passed; "
        "TestVibe 214: two passes and a failure; 215: passed; Autonoma "
        "gch7uesq5h6m9xe2fdq5ddgd: failed; k2d9xq7mm3v0w1p4r8s6t5ua: passed).",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        help="after '--': a command to run with each platform's URL and credentials variables "
        "(QATECH_API_URL, TESTVIBE_SERVER, AUTONOMA_API_URL, ...) pointing at the simulator",
    )
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with Simulator(demo_runs(), port=args.port) as simulator:
        variables = environment(simulator.url)
        if not command:
            print(f"Simulated APIs on {simulator.url}; Ctrl-C stops. For your shell:")
            for name, value in variables.items():
                print(f"  export {name}={value}")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                return 0
        try:
            return subprocess.call(command, env={**os.environ, **variables})
        except FileNotFoundError:
            print(f"simulator: command not found: {command[0]}", file=sys.stderr)
            return 127


if __name__ == "__main__":
    sys.exit(main())
