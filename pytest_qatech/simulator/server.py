"""The simulated APIs, served on 127.0.0.1 from a background thread.

A scripted run moves one status further on each status request, so progress depends on
requests, not on time, unless the run is made to go by the clock (``step_seconds``); a run can
also be held at a step until a test releases it. Any request to a run can be
answered with a scripted :class:`~.base.Answer` instead, to inject faults: any status code and
headers (``Retry-After``), any body (malformed, HTML), a dropped connection, a delay, a
truncated body.
"""

from __future__ import annotations

import base64
import json
import ssl
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pytest_qatech.simulator import autonoma, qatech, testvibe
from pytest_qatech.simulator.base import Answer, Api, Scripted, Served


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    query: dict[str, list[str]]
    authorized: bool
    #: time.monotonic() when the request arrived.
    at: float
    method: str = "GET"
    #: A POST's JSON body, decoded (None if it was not JSON).
    body: object = None
    #: The request's headers, with lower-case names.
    headers: dict[str, str] = field(default_factory=dict)


class Simulator:
    """The simulated APIs, served on 127.0.0.1 from a background thread."""

    def __init__(
        self,
        runs: Iterable[Served] = (),
        *,
        token: str = qatech.DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        certificate: tuple[str, str] | None = None,
        project: qatech.SimulatedProject | None = None,
        media: bool = False,
    ) -> None:
        """``certificate``: the files of a certificate and its key, to serve https.
        ``project``: what QA.tech's Start Run and Rerun APIs start (without one, they answer
        404, as for a token of a project without plans)."""
        self.token = token
        self.project = project
        #: Serve the cases' media links (screenshots, recordings, videos) from this server:
        #: the links in its answers lead to ``/media/...`` here instead of nowhere.
        self.media = media
        #: Scripted answers to media requests, by path (``/media/qatech/tc2.png``).
        self.media_answers: dict[str, Answer] = {}
        self.runs: dict[str, Served] = {
            served.path: served for run in runs for served in run.endpoints()
        }
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server((host, port), _handler_for(self))
        self._scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Simulator({self.url!r})"

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}"

    def add(self, *runs: Served) -> None:
        with self._lock:
            for run in runs:
                self.runs.update((served.path, served) for served in run.endpoints())

    def release(self) -> None:
        """Let every held run go on (``hold_at``), or one step further (``step_by_step``);
        also ``POST`` :data:`RELEASE_PATH`, for a test that runs in another process."""
        with self._lock:
            for served in self.runs.values():
                if isinstance(served, Scripted):
                    held = served.hold_at
                    served.hold_at = held + 1 if served.step_by_step and held is not None else None

    def requests_for(self, run_id: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/").endswith(f"/{run_id}")]

    def start(self) -> Simulator:
        # A short poll interval: stop() waits for the serving loop to notice.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),
            name="qatech-simulator",
            daemon=True,
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

    def _apis(self) -> tuple[Api, ...]:
        return (*qatech.apis(self.token), testvibe.API, autonoma.API)

    def answer(self, path: str, query: dict[str, list[str]], headers: Mapping[str, str]) -> Answer:
        """The answer to a GET; ``headers`` has lower-case names."""
        if path.startswith(MEDIA_PATH):
            with self._lock:
                self.requests.append(
                    RecordedRequest(path, query, False, time.monotonic(), headers=dict(headers))
                )
                return self.media_answers.get(path) or Answer(200, media_bytes(path))
        platform = next((p for p in self._apis() if path.startswith(p.prefix)), None)
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
            if run is None and path == qatech.TEST_CASES_PATH and self.project is not None:
                return self.project.test_cases(query)
            if run is None:
                return platform.not_found
            return run.respond(query)

    def post(self, path: str, raw: bytes, headers: Mapping[str, str]) -> Answer:
        """The answer to a POST to QA.tech's Start Run or Rerun API."""
        try:
            body: object = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = None
        run_api = qatech.apis(self.token)[0]
        authorized = run_api.authorized(headers)
        with self._lock:
            self.requests.append(
                RecordedRequest(path, {}, authorized, time.monotonic(), "POST", body)
            )
            if path != qatech.START_PATH and not path.startswith(run_api.prefix):
                return Answer(404, {"message": f"Cannot POST {path}"})
            if not authorized:
                return run_api.unauthorized
            if self.project is None:
                return Answer(404, {"message": "Project not found"})
            if path == qatech.START_PATH:
                answer, run = self.project.start(body)
            else:
                answer, run = self.project.rerun(self.runs.get(path), body)
            if run is not None:
                self.runs.update((served.path, served) for served in run.endpoints())
            return answer


#: Where the simulator serves media, when asked to.
MEDIA_PATH = "/media/"


def media_bytes(path: str) -> bytes:
    """A file for a media link: a tiny PNG for an image, a few bytes of anything else."""
    if path.endswith((".png", ".jpeg", ".jpg")):
        return base64.b64decode(_PIXEL)
    return b"\x1aE\xdf\xa3" + path.encode()  # the start of a WebM file, then its name


# A 1x1 PNG.
_PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9"
    "awAAAABJRU5ErkJggg=="
)

#: Where a ``POST`` releases the held runs: not part of any platform's API.
RELEASE_PATH = "/_simulator/release"


#: The most of a POST's body the simulator reads.
MAX_POST_BYTES = 1024 * 1024


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
            self._send(simulator.answer(parts.path, parse_qs(parts.query), headers), headers)

        def _send(self, answer: Answer, headers: Mapping[str, str]) -> None:
            if answer.delay:
                simulator._stopping.wait(answer.delay)
            if answer.drop:
                self.close_connection = True
                self.connection.close()
                return
            body = answer.body(headers) if callable(answer.body) else answer.body
            if isinstance(body, bytes):
                payload, content_type = body, "application/octet-stream"
            elif isinstance(body, str):
                payload, content_type = body.encode(), "text/html; charset=utf-8"
            elif body is None:
                payload, content_type = b"", "text/plain"
            else:
                text = json.dumps(body)
                if simulator.media:
                    text = text.replace(qatech.MEDIA, simulator.url + MEDIA_PATH.rstrip("/"))
                payload, content_type = text.encode(), "application/json"
            headers_out = {"Content-Type": content_type, **answer.headers}
            headers_out["Content-Length"] = str(len(payload))
            if answer.drip:
                self._drip(answer, headers_out, payload)
                return
            self.send_response(answer.status)
            for name, value in headers_out.items():
                self.send_header(name, value)
            self.end_headers()
            if answer.truncate:
                self.wfile.write(payload[: len(payload) // 2])
                self.close_connection = True
                return
            self.wfile.write(payload)

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == RELEASE_PATH:
                simulator.release()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(min(length, MAX_POST_BYTES))
            headers = {name.lower(): value for name, value in self.headers.items()}
            self._send(simulator.post(path, raw, headers), headers)

        def _drip(self, answer: Answer, headers: Mapping[str, str], payload: bytes) -> None:
            """The whole answer a byte at a time, as a server or proxy that barely moves."""
            head = f"HTTP/1.1 {answer.status} {self.responses[answer.status][0]}\r\n"
            head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            self.close_connection = True
            for byte in (head + "\r\n").encode() + payload:
                if simulator._stopping.wait(answer.drip):
                    return
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:  # the client gave up: as it should
                    return

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
