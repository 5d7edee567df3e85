"""QA.tech's ``GET /v1/run/{shortId}`` (Bearer token; ``runTestCases`` empty without
``testCases``, 400 for a ``testCases`` other than ``all``/``failed``; ``{"message": ...}`` error
bodies) and ``GET /v1/run-test-case/{shortId}``, each case's details (duration, error code,
links) with the fields pytest-qatech's issue tracker names."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from pytest_qatech.simulator.base import Answer, Api, Scripted, Served

DEFAULT_TOKEN = "simulator-token"
ENDED = ("COMPLETED", "ERROR", "CANCELLED")
MEDIA = "https://media.simulator.invalid"
_QATECH_APP = "https://app.qatech.simulator.invalid"


def apis(token: str) -> tuple[Api, Api]:
    """The run endpoint and the case details endpoint, for this token."""
    bearer = {"authorization": f"Bearer {token}"}
    unauthorized = Answer(401, {"message": "Missing or invalid API key"})
    return (
        Api("/v1/run/", bearer, unauthorized, Answer(404, {"message": "Run not found"})),
        Api(
            "/v1/run-test-case/",
            bearer,
            unauthorized,
            Answer(404, {"message": "Test case not found"}),
        ),
    )


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
    key = short_id or f"tc{_crc(name) % 10**6:06d}"
    return {
        "id": f"00000000-0000-4000-8000-{_crc(key):012x}",
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
class SimulatedRun(Scripted):
    """A QA.tech run. Every request to it is a status request (with ``testCases``, one that
    lists its cases): each case is listed from the step ``listed_at`` names (else from the
    start), and has its result from the step ``finish_at`` names, else once the run has ended."""

    short_id: str
    result: str | None = "PASSED"
    cases: list[Any] = field(default_factory=list)
    statuses: Sequence[str] = ("INITIATED", "RUNNING", "COMPLETED")
    #: Per case short id: fields to change in its details, or None for no details (a 404).
    details: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    #: Scripted answers by the index of the request to this run (0 is the first request).
    answers: dict[int, Answer] = field(default_factory=dict)
    #: Per case short id: the step from which the case is listed.
    listed_at: dict[str, int] = field(default_factory=dict)
    #: Per case short id: the step from which the case has its result.
    finish_at: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    @property
    def path(self) -> str:
        return f"/v1/run/{quote(self.short_id, safe='')}"

    def endpoints(self) -> list[Served]:
        served: list[Served] = [self]
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
        step = self.current_step(advance=True)
        return Answer(200, self.body(test_cases, step))

    def body(self, test_cases: str | None, step: int) -> dict[str, Any]:
        status = self.statuses[min(step, len(self.statuses) - 1)]
        ended = status in ENDED
        cases: list[Any] = []
        if test_cases is not None:
            # Cases go out as scripted, malformed ones included: tests feed the plugin garbage.
            for raw in self.cases:
                key = str(raw.get("shortId")) if isinstance(raw, dict) else ""
                if self.listed_at.get(key, 0) > step and not ended:
                    continue
                finished = ended or self.finish_at.get(key, step + 1) <= step
                if isinstance(raw, dict) and not finished:
                    raw = {**raw, "status": "RUNNING", "result": None}
                cases.append(raw)
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
    duration_ms = 20_000 + _crc(short_id) % 40_000
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
        "screenshotUrl": f"{MEDIA}/qatech/{short_id}.png",
        "recordingUrl": f"{MEDIA}/qatech/{short_id}.webm",
        "startedAt": started.isoformat(timespec="milliseconds") + "Z",
        "completedAt": completed.isoformat(timespec="milliseconds") + "Z",
    }


@dataclass
class SimulatedCaseDetails(Served):
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


def _crc(text: str) -> int:
    """A stable number for a text, whatever odd characters a test puts in it."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))
