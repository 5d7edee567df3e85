"""Credentials: never shown, and struck out of every text that comes from a server.

A careless or hostile server may echo what it was sent (an ``Authorization`` header in a 401's
message, a token in a case's title). Every credential this process holds is registered here
when it is read, so that :func:`redact` can take it out of any text before it is shown.
"""

from __future__ import annotations

import re

#: What stands in a text for a credential that was in it.
REDACTED = "********"
# Shorter values are no credentials, and striking them would garble ordinary text.
_SHORTEST = 6
_held: set[str] = set()
_pattern: re.Pattern[str] | None = None


class Secret:
    """A credential that never shows itself in a repr, a str or a traceback's locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        _hold(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is never pickled")


def redact(text: str) -> str:
    """``text`` with every credential this process holds replaced by :data:`REDACTED`."""
    if _pattern is None:
        return text
    return _pattern.sub(REDACTED, text)


def _hold(value: str) -> None:
    global _pattern
    if len(value) < _SHORTEST or value in _held:
        return
    _held.add(value)
    # Longest first: a token inside a longer credential must not leave the rest behind.
    alternatives = sorted(_held, key=len, reverse=True)
    _pattern = re.compile("|".join(re.escape(held) for held in alternatives))
