"""What a provider asks of its platform's API, and what the HTTP client sends: one request, in
terms of the API (a path below its URL), not of HTTP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiRequest:
    """A request relative to the provider's API URL; ``path`` is already percent-encoded.

    A GET, unless it has a ``body`` (JSON text): then it is a POST, which starts something on
    the platform and so is sent only when the user asked for that.
    """

    path: str
    params: tuple[tuple[str, str], ...] = ()
    body: str | None = None

    @property
    def method(self) -> str:
        return "GET" if self.body is None else "POST"
