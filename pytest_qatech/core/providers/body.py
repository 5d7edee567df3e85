"""Typed reading of JSON bodies, with errors that name the object and the field.

Every provider reads its platform's answers through this, so that a body the reference does not
describe is reported the same way whichever platform sent it.
"""

from __future__ import annotations

import math

from pytest_qatech.core.urls import is_path_segment


class BodyError(Exception):
    """A response body is not what the platform's API reference describes."""


class _Missing:
    def __repr__(self) -> str:
        return "missing"


MISSING = _Missing()


class Fields:
    """A JSON object read field by field; ``where`` names it in errors (``run 214``)."""

    def __init__(self, body: object, where: str) -> None:
        if not isinstance(body, dict):
            raise BodyError(f"{where}: expected a JSON object, received {kind(body)}")
        self._body: dict[str, object] = body
        self.where = where

    def get(self, field: str) -> object:
        return self._body.get(field, MISSING)

    def text(self, field: str) -> str:
        value = self.get(field)
        if not isinstance(value, str):
            raise self._wrong(field, value, "a string")
        return value

    def optional_text(self, field: str, *, required: bool = False) -> str | None:
        """A string, or None for null (and, unless ``required``, for a missing field)."""
        value = self.get(field)
        if value is None or (value is MISSING and not required):
            return None
        if not isinstance(value, str):
            raise self._wrong(field, value, "a string or null")
        return value

    def integer(self, field: str) -> int:
        value = self.get(field)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(field, value, "an integer")
        return value

    def optional_number(self, field: str) -> float | None:
        """A finite number of at least 0, or None (JSON's NaN and Infinity are no numbers
        here, nor is an integer too large to count with)."""
        value = self.get(field)
        if value is None or value is MISSING:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if math.isfinite(number) and number >= 0:
                return number
        raise self._wrong(field, value, "a non-negative number or null")

    def identifier(self, field: str) -> str:
        """A string that can go into a URL path as it is: a server's id must not change where
        a request goes (``..`` would)."""
        value = self.text(field)
        if not is_path_segment(value):
            raise self._wrong(field, value, "an id of 1 to 128 letters, digits, '-' or '_'")
        return value

    def objects(self, field: str, *, required: bool = True) -> list[object]:
        """A list (its entries are checked by the caller, one at a time); [] when optional."""
        value = self.get(field)
        if not required and value in (None, MISSING):
            return []
        if not isinstance(value, list):
            raise self._wrong(field, value, "a list")
        return value

    def page(self, field: str, offset: int, limit: int, noun: str) -> tuple[list[object], int]:
        """One page of a paged list (``{<field>, total, limit, offset}``): its entries, no more
        than the ``limit`` asked for (a server that sends more is not followed past it), and
        the ``total`` it claims. An answer for another ``offset`` than the one asked is
        refused: asking on would not move on."""
        total = self.integer("total")
        at = self.integer("offset")
        if at != offset:
            raise BodyError(
                f"{self.where}: asked for {noun} from {offset}, but the API answered with "
                f"those from {at}"
            )
        return self.objects(field)[:limit], total

    def optional_object(self, field: str) -> Fields | None:
        value = self.get(field)
        if value is None or value is MISSING:
            return None
        return Fields(value, f"{self.where}, field {field!r}")

    def _wrong(self, field: str, value: object, expected: str) -> BodyError:
        if value is MISSING:
            return BodyError(f"{self.where}: required field {field!r} is missing")
        return BodyError(
            f"{self.where}: field {field!r} must be {expected}, received {kind(value)}"
        )


def entry_name(raw: object, fallback: str) -> str:
    """A list entry's ``name`` if it has a readable one, else ``fallback``: a malformed entry
    is still reported, as an error under the name people know it by."""
    name = raw.get("name") if isinstance(raw, dict) else None
    return name if isinstance(name, str) else fallback


def unlisted(subject: str, field: str, value: str, platform: str, listed: str) -> str:
    """What to say of a value that the platform's API reference does not list."""
    return (
        f"{subject} has {field} {value!r}, which the {platform} API reference does not list "
        f"({listed})"
    )


def _shortened(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "..."


def kind(value: object) -> str:
    """What a JSON value is, briefly, for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, int | float):
        return f"a number ({_shortened(repr(value))})"
    if isinstance(value, str):
        return f"a string ({_shortened(value)!r})"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
