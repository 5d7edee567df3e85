"""TestVibe's ``GET /api/v1/ops/projects/{project}/runs/{runId}`` (Bearer key; ``summary``,
``tests``, ``artifacts`` and, unless passed, ``log`` once the run has ended; 404 ``not_found``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from pytest_qatech.simulator.base import Answer, Api, Scripted

TESTVIBE_KEY = "testvibe-simulator-key"
TESTVIBE_PROJECT = "demo-project"
STARTED = "2026-06-10T16:02:11Z"
ENDED = "2026-06-10T16:02:54Z"
API = Api(
    "/api/v1/ops/projects/",
    {"authorization": f"Bearer {TESTVIBE_KEY}"},
    Answer(401, {"error": "unauthorized", "message": "Invalid API key"}),
    Answer(404, {"error": "not_found", "message": "No such run in this project."}),
)


def vibe_test(
    name: str, status: str = "passed", *, duration_ms: int = 1000, error: str | None = None
) -> dict[str, Any]:
    """One entry of a TestVibe run's ``tests``."""
    return {"name": name, "status": status, "durationMs": duration_ms, "error": error}


@dataclass
class SimulatedTestVibeRun(Scripted):
    """A TestVibe run; it ends ``failed`` if a test did not pass, else ``passed``."""

    run_id: int
    tests: list[Any] = field(default_factory=list)
    #: Empty: ("running", "running", <passed or failed>).
    statuses: Sequence[str] = ()
    artifacts: list[Any] = field(default_factory=list)
    log: str | None = None
    project: str = TESTVIBE_PROJECT
    answers: dict[int, Answer] = field(default_factory=dict)
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
            "createdUtc": STARTED,
            "startedUtc": STARTED,
            "finishedUtc": None if status == "running" else ENDED,
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
