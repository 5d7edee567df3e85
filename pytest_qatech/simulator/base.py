"""What every simulated API is made of: scripted answers, things served at a path, and how an
API says "unauthorized" and "not found"."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

#: What an answer's body may be: bytes as they are, text as HTML, anything else as JSON.
Body = bytes | dict[str, Any] | list[Any] | str | None


@dataclass
class Answer:
    """A scripted HTTP answer; ``body`` goes out as is (bytes), as HTML (str) or as JSON, or is
    made from the request's headers (lower-case names), to echo them as a careless server
    would."""

    status: int = 200
    body: Body | Callable[[Mapping[str, str]], Body] = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Close the connection without answering at all.
    drop: bool = False
    #: Seconds to wait before answering, as a slow server would.
    delay: float = 0.0
    #: Announce the whole body but send only its first half, then close the connection.
    truncate: bool = False
    #: Seconds between the bytes of the whole answer, status line and headers included.
    drip: float = 0.0


class Served:
    """Something the simulator answers for at one path, with scripted answers by request index.

    Subclasses are dataclasses with the fields ``answers`` and ``requests``, a ``path`` and a
    ``respond`` method.
    """

    answers: dict[int, Answer]
    requests: int

    @property
    def path(self) -> str:
        raise NotImplementedError

    def endpoints(self) -> list[Served]:
        """Everything to serve for this object: itself, and any paths it brings along."""
        return [self]

    def respond(self, query: dict[str, list[str]]) -> Answer:
        raise NotImplementedError


class _WithStatuses(Served):
    # Not a dataclass: each run declares the field, with a default of its own.
    statuses: Sequence[str]


@dataclass
class Scripted(_WithStatuses):
    """A simulated run: a script of statuses, moved a step on by each status request, or, with
    ``step_seconds``, by the clock: a step per that many seconds since its first request.

    Subclasses are dataclasses with the field ``statuses``.
    """

    _: KW_ONLY
    #: Status requests answered so far: the step the script is at.
    polls: int = 0
    step_seconds: float | None = None
    #: The step a request-driven run stays at until the simulator releases it.
    hold_at: int | None = None
    #: With ``hold_at``: each release lets the run one step further, not on to its end.
    step_by_step: bool = False
    clock: Callable[[], float] = time.monotonic
    started: float | None = None

    def current_step(self, advance: bool) -> int:
        """The step the run is at; ``advance``: a status request, which moves the script on."""
        if self.step_seconds is not None:
            now = self.clock()
            if self.started is None:
                self.started = now
            return int((now - self.started) / self.step_seconds)
        held = self.hold_at is not None and self.polls >= self.hold_at
        if not advance or held:
            return max(self.polls - (0 if held else 1), 0)
        self.polls += 1
        return self.polls - 1

    def current_status(self, advance: bool) -> str:
        return self.statuses[min(self.current_step(advance), len(self.statuses) - 1)]


@dataclass(frozen=True)
class Api:
    """How one platform's API says "unauthorized" and "not found", and whom it lets in."""

    prefix: str
    credentials: Mapping[str, str]
    unauthorized: Answer
    not_found: Answer

    def authorized(self, headers: Mapping[str, str]) -> bool:
        return all(headers.get(name) == value for name, value in self.credentials.items())
