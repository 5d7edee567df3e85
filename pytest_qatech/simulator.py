"""A loopback stand-in for QA.tech's ``GET /v1/run/{shortId}``, for tests and the demo.

It answers as QA.tech's reference describes: a Bearer token is required (401 otherwise), an
unknown run is a 404, ``testCases`` other than ``all``/``failed`` is a 400, every body is
``{"message": ...}`` on errors, and ``runTestCases`` is an empty list without ``testCases``.
A scripted run moves one status further on each light poll (INITIATED -> RUNNING ->
COMPLETED by default), so progress depends on requests, never on time. Any request to a run
can be answered with a scripted :class:`Answer` instead, to inject faults: any status code and
headers (``Retry-After``), any body (malformed, HTML), a dropped connection, a delay, a
truncated body.

    python -m pytest_qatech.simulator -- pytest --qatech-run abc123

starts the simulator on 127.0.0.1 with the demo runs, runs the command with
``QATECH_API_URL`` and ``QATECH_API_TOKEN`` pointing at it, and exits with its exit code.
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_TOKEN = "simulator-token"
ENDED = ("COMPLETED", "ERROR", "CANCELLED")


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


@dataclass
class SimulatedRun:
    short_id: str
    result: str | None = "PASSED"
    cases: list[Any] = field(default_factory=list)
    statuses: Sequence[str] = ("INITIATED", "RUNNING", "COMPLETED")
    #: Scripted answers by the index of the request to this run (0 is the first request).
    answers: dict[int, Answer] = field(default_factory=dict)
    light_polls: int = 0
    requests: int = 0

    def current_status(self, advance: bool) -> str:
        last = len(self.statuses) - 1
        if advance:
            status = self.statuses[min(self.light_polls, last)]
            self.light_polls += 1
            return status
        return self.statuses[min(max(self.light_polls - 1, 0), last)]

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


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    query: dict[str, list[str]]
    authorized: bool
    #: time.monotonic() when the request arrived.
    at: float


def demo_runs() -> list[SimulatedRun]:
    """The runs the README demo shows: a pass, a readable failure and a skip."""
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
    ]


class Simulator:
    """The simulated API, served on 127.0.0.1 from a background thread."""

    def __init__(
        self,
        runs: Iterable[SimulatedRun] = (),
        *,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.runs: dict[str, SimulatedRun] = {run.short_id: run for run in runs}
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

    def add(self, *runs: SimulatedRun) -> None:
        with self._lock:
            for run in runs:
                self.runs[run.short_id] = run

    def requests_for(self, short_id: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/").endswith(f"/{short_id}")]

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

    def answer(self, path: str, query: dict[str, list[str]], auth: str | None) -> Answer:
        authorized = auth == f"Bearer {self.token}"
        with self._lock:
            self.requests.append(RecordedRequest(path, query, authorized, time.monotonic()))
            return self._answer(path, query, authorized)

    def _answer(self, path: str, query: dict[str, list[str]], authorized: bool) -> Answer:
        prefix = "/v1/run/"
        if not path.startswith(prefix) or "/" in path[len(prefix) :]:
            return Answer(404, {"message": f"Cannot GET {path}"})
        run = self.runs.get(unquote(path[len(prefix) :]))
        if run is not None:
            index = run.requests
            run.requests += 1
            if index in run.answers:
                return run.answers[index]
        if not authorized:
            return Answer(401, {"message": "Missing or invalid API key"})
        test_cases = query.get("testCases", [None])[-1]
        if test_cases not in (None, "all", "failed"):
            return Answer(400, {"message": "Invalid query parameters: testCases"})
        if run is None:
            return Answer(404, {"message": "Run not found"})
        status = run.current_status(advance=test_cases is None)
        return Answer(200, run.body(test_cases, status))


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
            answer = simulator.answer(
                parts.path, parse_qs(parts.query), self.headers.get("Authorization")
            )
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
        description="Serve the simulated QA.tech API on 127.0.0.1 with the demo runs "
        "(abc123: a pass, a failure and a skip; green1: all passed).",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        help="after '--': a command to run with QATECH_API_URL and QATECH_API_TOKEN set",
    )
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with Simulator(demo_runs(), port=args.port) as simulator:
        if not command:
            print(f"QA.tech simulator on {simulator.url} (token {DEFAULT_TOKEN!r}); Ctrl-C stops")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                return 0
        env = {**os.environ, "QATECH_API_URL": simulator.url, "QATECH_API_TOKEN": DEFAULT_TOKEN}
        try:
            return subprocess.call(command, env=env)
        except FileNotFoundError:
            print(f"simulator: command not found: {command[0]}", file=sys.stderr)
            return 127


if __name__ == "__main__":
    sys.exit(main())
