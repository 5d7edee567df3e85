"""Remote text made safe: cleaned where it comes in, spelled out where it goes out; and durations
made readable."""

from __future__ import annotations

import re

from pytest_qatech.core.secrets import redact

# C0 and C1 controls, the Unicode line separators, lone surrogates and the two noncharacters
# XML refuses: an escape sequence must not recolour or rewrite a CI log, and neither a terminal,
# an environment variable nor an XML file can hold the rest.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_KEPT = frozenset("\n\t")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# What GitHub Actions' runner takes for a workflow command: a line that starts with "::" once
# leading white space is trimmed, or "##[" anywhere in a line (its legacy form), per
# actions/runner's ActionCommand.TryParseV2 and TryParse.
_COMMAND_START = re.compile(r"^([^\S\n]*):(?=:)", re.MULTILINE)
_LEGACY_COMMAND = "##["


def clean(text: str) -> str:
    """Text as it arrives from a server, made fit to keep: no credential this process holds,
    and no lone surrogate (which nothing can encode), replaced by U+FFFD."""
    return redact(_SURROGATES.sub("\ufffd", text))


def visible(text: str) -> str:
    """Remote text with its control characters spelled out (``\\x1b``), newlines and tabs kept,
    and nothing in it that a CI runner would take for a command.

    Every text from a remote service that is printed or written goes through here.
    """
    text = _UNSAFE.sub(_spelled_out, text)
    text = _COMMAND_START.sub(r"\1\\x3a", text)
    return text.replace(_LEGACY_COMMAND, "#\\x23[")


def one_line(text: str) -> str:
    """``text`` with every run of white space and unsafe characters made one space."""
    return " ".join(_UNSAFE.sub(" ", text).split())


def first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]


def counted(count: int, noun: str) -> str:
    r"""``count`` ``noun``\s, the noun in the singular for one: ``1 case``, ``2 cases``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def capped(text: str, most: int | None, *, read: bool = False) -> str:
    """``text`` cut after ``most`` characters (None: never), saying how many were left out:
    not ``read``, or only not shown."""
    if most is None or len(text) <= most:
        return text
    left = len(text) - most
    noun = "character" if left == 1 else "characters"
    return f"{text[:most]} [... {left:,} more {noun}{' not read' if read else ''}]"


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
