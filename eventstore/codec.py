"""JSON for payloads and envelopes: money stays ``Decimal`` in Python and is a JSON number on the wire.

Encoding writes a ``Decimal`` through ``float``: for amounts up to 9,999,999,999.99 with two
places the shortest float repr is exactly the decimal text, so nothing is lost. Decoding parses
every JSON number with a fraction as ``Decimal`` (never as a binary float).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any


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


def dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def loads(text: str | bytes) -> Any:
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    return _DECODER.decode(text)


def format_timestamp(value: dt.datetime) -> str:
    """RFC 3339 in UTC with ``Z`` and microseconds."""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
