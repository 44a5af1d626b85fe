"""JSON for payloads and envelopes: money stays ``Decimal`` in Python and is a JSON number on the wire.

Encoding writes a ``Decimal`` through ``float``: for amounts up to 9,999,999,999.99 with two
places the shortest float repr is exactly the decimal text, so nothing is lost. Decoding parses
every JSON number with a fraction as ``Decimal`` (never as a binary float).

``dumps`` encodes with orjson (about five times faster than the standard library here, ADR 31) and
gives the standard encoder's text: timestamps and ``Decimal`` still go through ``_default``, and
anything orjson refuses (integers beyond 64 bits, a non-finite ``Decimal``, dataclasses, non-string keys)
goes to the standard encoder. Two differences remain, for floats only, which no payload here holds: an
exponent is written without padding (``1e-7``, not ``1e-07``) and a non-finite float as ``null``. Decoding stays with the standard library, the one
that parses fractions straight to ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(default=_default, separators=(",", ":"), ensure_ascii=False)
_DECODER = json.JSONDecoder(parse_float=Decimal)


_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _default_strict(value: Any) -> Any:
    if isinstance(value, Decimal) and not value.is_finite():
        raise TypeError("a non-finite Decimal goes to the standard encoder")
    return _default(value)


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, default=_default_strict, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return _ENCODER.encode(value)


def loads(text: str | bytes) -> Any:
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    return _DECODER.decode(text)


def format_timestamp(value: dt.datetime) -> str:
    """RFC 3339 in UTC with ``Z`` and microseconds."""
    if value.tzinfo is not dt.timezone.utc:
        value = value.astimezone(dt.timezone.utc)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def parse_timestamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Encoder(json.JSONEncoder):
    """For Django ``JSONField(encoder=...)``."""

    def default(self, o: Any) -> Any:
        return _default(o)


class Decoder(json.JSONDecoder):
    """For Django ``JSONField(decoder=...)``: fractions become ``Decimal``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parse_float", Decimal)
        super().__init__(*args, **kwargs)
