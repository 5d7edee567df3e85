"""What every simulated API is made of: scripted answers, things served at a path, and how an
API says "unauthorized" and "not found"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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


class Scripted(Served):
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


@dataclass(frozen=True)
class Api:
    """How one platform's API says "unauthorized" and "not found", and whom it lets in."""

    prefix: str
    credentials: Mapping[str, str]
    unauthorized: Answer
    not_found: Answer

    def authorized(self, headers: Mapping[str, str]) -> bool:
        return all(headers.get(name) == value for name, value in self.credentials.items())
