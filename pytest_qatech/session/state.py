"""What a process knows of the session's remote runs, and what the xdist controller hands over."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_qatech.core.codec import from_data, to_data
from pytest_qatech.core.models import RunReport

#: The key of the handoff in an xdist worker's ``workerinput``.
HANDOFF_KEY = "qatech_runs"


@dataclass(frozen=True)
class Handoff:
    """The one thing an xdist controller hands each worker: the runs as it learned them, so
    that every worker collects the same items and none talks to the API."""

    reports: tuple[RunReport, ...]

    def serialized(self) -> str:
        return json.dumps(to_data(self))

    @classmethod
    def from_serialized(cls, text: str) -> Handoff:
        return from_data(cls, json.loads(text))

    @classmethod
    def received(cls, workerinput: Mapping[str, Any]) -> Handoff:
        return cls.from_serialized(workerinput[HANDOFF_KEY])


class RemoteRuns:
    """The session's remote runs, learned once: waited for, or handed over by the controller."""

    def __init__(self, learn: Callable[[], Sequence[RunReport]]) -> None:
        self._learn = learn
        self._reports: tuple[RunReport, ...] | None = None

    def __repr__(self) -> str:
        return f"RemoteRuns(known={self._reports is not None})"

    @property
    def known(self) -> tuple[RunReport, ...]:
        """The runs learned so far, without waiting: none if the wait never finished."""
        return self._reports or ()

    def reports(self) -> tuple[RunReport, ...]:
        """The runs, waiting for them first if this process has not yet."""
        if self._reports is None:
            self._reports = tuple(self._learn())
        return self._reports
