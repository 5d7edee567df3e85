"""Remote text made safe to print, and durations made readable."""

from __future__ import annotations

import re

# C0 and C1 controls and the Unicode line separators: an escape sequence must not recolour or
# rewrite a CI log, and XML cannot hold most of them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_KEPT = frozenset("\n\t")


def visible(text: str) -> str:
    """Remote text with its control characters spelled out (``\\x1b``), newlines and tabs kept.

    Every text from a remote service that is printed or written goes through here.
    """
    return _CONTROL.sub(_spelled_out, text)


def one_line(text: str) -> str:
    """``text`` with every run of white space and control characters made one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]


def format_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _spelled_out(match: re.Match[str]) -> str:
    character = match.group()
    return character if character in _KEPT else ascii(character)[1:-1]
