"""Autonoma's ``GET /run/{run_id}`` (``autonoma-client-id`` and ``autonoma-client-secret``
headers; ``steps`` only with ``steps=true``, media links only with ``media=true``;
``{"error", "message"}`` bodies for 401 and 404)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from pytest_qatech.simulator.base import Answer, Api, Scripted
from pytest_qatech.simulator.qatech import MEDIA
from pytest_qatech.simulator.testvibe import ENDED, STARTED

AUTONOMA_CLIENT_ID = "autonoma-simulator-id"
AUTONOMA_CLIENT_SECRET = "autonoma-simulator-secret"
API = Api(
    "/run/",
    {"autonoma-client-id": AUTONOMA_CLIENT_ID, "autonoma-client-secret": AUTONOMA_CLIENT_SECRET},
    Answer(401, {"error": "Unauthorized", "message": "Invalid authentication credentials"}),
    Answer(404, {"error": "Not found", "message": "Resource not found"}),
)


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
    key = f"{_crc(instruction):08x}"
    return {
        "id": f"step{key}",
        "instruction": instruction,
        "interaction": interaction,
        "output": output or f"{interaction} done",
        "status": status,
        "url": url,
        "element": {"html": "<button>…</button>", "selector": selector or "button"},
        "image": f"{MEDIA}/screenshots/{key}.jpeg",
    }


@dataclass
class SimulatedAutonomaRun(Scripted):
    """An Autonoma test run; it ends ``failed`` if a step failed, else ``passed``."""

    run_id: str
    name: str
    steps: list[Any] = field(default_factory=list)
    folder: str | None = None
    #: Empty: ("pending", "running", <passed or failed>).
    statuses: Sequence[str] = ()
    answers: dict[int, Answer] = field(default_factory=dict)
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
            "test_id": f"test-{_crc(self.name):08x}",
            "status": status,
            "created_at": STARTED,
            "ended_at": ENDED if ended else None,
            "folder_run_id": None,
            "job_run_id": None,
            "job_id": None,
            "folder": {"id": f"folder-{self.folder}", "name": self.folder} if self.folder else None,
            "video_url": f"{MEDIA}/videos/{self.run_id}.mp4" if media and ended else None,
            "metadata": {"source": "api", "version": "STG", "architecture": "web"},
        }
        if with_steps:
            body["steps"] = [
                raw if media or not isinstance(raw, dict) else {**raw, "image": None}
                for raw in self.steps
            ]
        return Answer(200, body)


def _crc(text: str) -> int:
    """A stable number for a text, whatever odd characters a test puts in it."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))
