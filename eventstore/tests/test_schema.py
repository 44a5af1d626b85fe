"""``schema.to_dict``: dataclasses, sequences and mappings as JSON-ready data, recursively."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from eventstore import schema


@dataclass(frozen=True)
class Line:
    product_id: str
    price: Decimal


@dataclass(frozen=True)
class Placed:
    order_id: str
    lines: tuple[Line, ...]
    notes: dict
    total: Decimal | None = None


@dataclass(frozen=True)
class PlacedAgain(Placed):
    channel: str = "kiosk"


def test_nested_dataclasses_sequences_and_mappings_become_plain_data_and_scalars_stay():
    placed = Placed("o-1", (Line("p-1", Decimal("1.50")),), {"by": [Line("p-2", Decimal("0.10"))]})

    assert schema.to_dict(placed) == {
        "order_id": "o-1",
        "lines": [{"product_id": "p-1", "price": Decimal("1.50")}],
        "notes": {"by": [{"product_id": "p-2", "price": Decimal("0.10")}]},
        "total": None,
    }


def test_a_subclass_keeps_its_own_fields_and_a_dataclass_type_is_not_an_instance():
    again = PlacedAgain("o-2", (), {}, Decimal("3.00"), channel="admin")

    assert schema.to_dict(again) == {"order_id": "o-2", "lines": [], "notes": {}, "total": Decimal("3.00"),
                                     "channel": "admin"}
    assert schema.to_dict(Placed) is Placed
    assert schema.to_dict({"t": Line}) == {"t": Line}
