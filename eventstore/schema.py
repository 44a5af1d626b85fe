"""Dataclass <-> JSON-ready dict conversion for events, messages and snapshots.

``from_dict`` follows the type hints: ``Decimal`` fields become money (2 places, half-up), ``int``
fields integers, ``str`` fields strings, nested dataclasses and ``tuple[X, ...]``/``list[X]`` of them
are rebuilt. Missing keys take the field default, so older payloads stay readable.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
MONEY_MAX = Decimal("9999999999.99")
QUANTITY_MAX = 10_000
LINES_MAX = 100
"""The bounds of product.md §7 that every module keeps (ADR 20): the largest amount (a price, a payment, an
order total: what the money columns and the API's money range hold), the largest quantity of one line
and the most lines (products) in one basket, order or shopping list."""


def money(value: Any) -> Decimal:
    """A money amount: ``Decimal`` with exactly 2 places, rounded half-up."""
    if isinstance(value, Decimal):
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    if isinstance(value, float):
        value = repr(value)
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


_SCALARS = (str, int, float, bool, Decimal, type(None))


@functools.lru_cache(maxsize=None)
def _field_names(cls: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type, ``None`` for any other type (``dataclasses.fields`` builds its tuple
    anew on every call)."""
    return tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else None


def to_dict(obj: Any) -> Any:
    """Dataclasses, lists, tuples and dicts as plain dicts and lists, recursively; scalars as they are."""
    if isinstance(obj, _SCALARS):
        return obj
    names = _field_names(type(obj))
    if names is not None:
        return {name: to_dict(getattr(obj, name)) for name in names}
    if isinstance(obj, (list, tuple)):
        return [to_dict(item) for item in obj]
    if isinstance(obj, dict):
        return {key: to_dict(value) for key, value in obj.items()}
    return obj


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (tuple, list):
        (item_hint, *_rest) = typing.get_args(hint) or (Any,)
        items = [_convert(item_hint, item) for item in value]
        return tuple(items) if origin is tuple else items
    if origin is typing.Union:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _convert(options[0], value) if len(options) == 1 else value
    if hint is Decimal:
        return money(value)
    if hint is int and not isinstance(value, bool):
        return int(value)
    if hint is str:
        return str(value)
    if hint is bool:
        return bool(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_dict(hint, value)
    return value


@functools.lru_cache(maxsize=None)
def _init_fields(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = _hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls) if f.init)


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    return cls(**{name: _convert(hint, data[name]) for name, hint in _init_fields(cls) if name in data})
