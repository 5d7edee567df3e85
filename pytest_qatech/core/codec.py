"""Frozen dataclasses to JSON-ready data and back, read from their type annotations.

The models cross a process boundary once (the xdist controller hands them to its workers) and
execnet carries only plain types, so every model class is written and read by these two
functions rather than by a pair of hand-written methods each.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_TYPE = "type"
_PLAIN = (str, int, float, bool, type(None))


def to_data(value: object) -> Any:
    """``value`` as JSON-ready data: dataclasses as objects tagged with their class's name."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {field.name: to_data(getattr(value, field.name)) for field in _fields(type(value))}
        data[_TYPE] = type(value).__name__
        return data
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [to_data(item) for item in value]
    if isinstance(value, _PLAIN):
        return value
    raise TypeError(f"cannot encode {type(value).__name__}")


def from_data(kind: type[T], data: Any) -> T:
    """The ``kind`` that :func:`to_data` made ``data`` from."""
    decoded: T = _decoder(kind)(data)
    return decoded


_DECODERS: dict[object, Callable[[Any], Any]] = {}


def _fields(kind: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(kind)


def _decoder(hint: object) -> Callable[[Any], Any]:
    decoder = _DECODERS.get(hint)
    if decoder is None:
        decoder = _DECODERS[hint] = _new_decoder(hint)
    return decoder


def _new_decoder(hint: Any) -> Callable[[Any], Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is float:
        return float
    if hint in _PLAIN:
        return _same
    if origin in (typing.Union, types.UnionType):
        return _union_decoder(args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda data: tuple(item(value) for value in data)
        items = tuple(_decoder(arg) for arg in args)
        return lambda data: tuple(item(value) for item, value in zip(items, data, strict=True))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    raise TypeError(f"cannot decode {hint!r}")


def _same(data: Any) -> Any:
    return data


def _union_decoder(options: tuple[Any, ...]) -> Callable[[Any], Any]:
    others = [option for option in options if option is not type(None)]
    if len(others) < len(options) and len(others) == 1:
        inner = _decoder(others[0])
        return lambda data: None if data is None else inner(data)
    by_name = {option.__name__: _decoder(option) for option in others}
    if not all(dataclasses.is_dataclass(option) for option in others):
        raise TypeError(f"cannot decode a union of {options!r}")
    return lambda data: None if data is None else by_name[data[_TYPE]](data)


def _dataclass_decoder(kind: type[Any]) -> Callable[[Any], Any]:
    hints = typing.get_type_hints(kind)
    fields = [(field.name, _decoder(hints[field.name])) for field in _fields(kind)]
    return lambda data: kind(**{name: decode(data[name]) for name, decode in fields})
