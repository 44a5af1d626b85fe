"""``codec.dumps`` (orjson) writes the text the standard library's encoder wrote before ADR 31."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest

from eventstore import codec

STANDARD = json.JSONEncoder(default=codec._default, separators=(",", ":"), ensure_ascii=False)


@dataclasses.dataclass
class Point:
    x: int


@pytest.mark.parametrize("value", [
    {"orderId": "0b9d2f44-2b7e-4c55-a3c1-7d0e5b1f9a10", "total": Decimal("9999999999.99"),
     "items": [{"price": Decimal("12.50"), "quantity": 2}, {"price": Decimal("0.01"), "quantity": 1}]},
    {"at": dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc), "id": uuid.UUID(int=7), "none": None,
     "flag": True, "list": [1, 2, 3], "tuple": (1, "a")},
    {"text": "Café – 𝄞 \u2028 \x00 \"quoted\" \\ back", "empty": {}, "nested": [[[]]]},
    {"big": 2 ** 70, "negative": -2 ** 70},
    {1: "non-string key"},
    {"nan": Decimal("NaN")},
    [Decimal("1.10"), Decimal("-0.00"), 0, -1, 1.5],
])
def test_the_text_is_the_standard_encoders(value):
    assert codec.dumps(value) == STANDARD.encode(value)


def test_what_neither_encoder_knows_is_refused():
    with pytest.raises(TypeError):
        codec.dumps({"point": Point(1)})
    with pytest.raises(TypeError):
        codec.dumps({"set": {1, 2}})


def test_money_survives_the_round_trip():
    payload = {"amount": Decimal("1234567.89"), "lines": [{"price": Decimal("0.10")}]}
    assert codec.loads(codec.dumps(payload)) == payload


@pytest.mark.parametrize("value, text", [
    (dt.datetime(2026, 11, 30, 21, 50, 27, 529628, tzinfo=dt.timezone.utc), "2026-11-30T21:50:27.529628Z"),
    (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), "2026-01-02T03:04:05.000000Z"),
    (dt.datetime(2026, 12, 1, 0, 30, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), "2026-11-30T23:30:00.000001Z"),
    (dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))),
     "2026-03-29T06:30:00.000000Z"),
])
def test_timestamps_are_rfc_3339_in_utc_with_z_and_microseconds(value, text):
    assert codec.format_timestamp(value) == text
    assert codec.parse_timestamp(text) == value
