"""What crosses from an xdist controller to its workers, and back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_qatech.core.codec import from_data, to_data
from pytest_qatech.core.models import RunSnapshot

#: The key of the handoff in an xdist worker's ``workerinput``.
HANDOFF_KEY = "qatech_runs"
#: The key, in a worker's ``workeroutput``, of the node ids of the remote items it selected.
SELECTED_KEY = "qatech_selected"


@dataclass(frozen=True)
class Handoff:
    """The one thing an xdist controller hands each worker: the runs' first snapshot, so that
    every worker collects the same items as the controller and none talks to the API."""

    runs: tuple[RunSnapshot, ...]

    def serialized(self) -> str:
        return json.dumps(to_data(self))

    @classmethod
    def from_serialized(cls, text: str) -> Handoff:
        return from_data(cls, json.loads(text))

    @classmethod
    def received(cls, workerinput: Mapping[str, Any]) -> Handoff:
        return cls.from_serialized(workerinput[HANDOFF_KEY])
