"""Read-only facade for other modules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from baskets import models
from eventstore.ids import is_valid_id


@dataclass(frozen=True)
class BasketInfo:
    id: str
    customer_id: str
    payment_id: str
    status: str
    total: Decimal
    version: int


def find_basket(basket_id: str) -> BasketInfo | None:
    row = models.Basket.objects.filter(id=basket_id).first() if is_valid_id(basket_id) else None
    if row is None:
        return None
    return BasketInfo(id=row.id, customer_id=row.customer_id, payment_id=row.payment_id, status=row.status,
                      total=row.total, version=row.version)
