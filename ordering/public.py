"""Ordering query facade for other modules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from eventstore.ids import is_valid_id
from ordering import models


@dataclass(frozen=True)
class OrderInfo:
    id: str
    customer_id: str
    payment_id: str
    shopping_id: str
    invoice_id: str
    status: str
    total: Decimal
    version: int


def find_order(order_id: str) -> OrderInfo | None:
    row = models.Order.objects.filter(id=order_id).first() if is_valid_id(order_id) else None
    if row is None:
        return None
    return OrderInfo(id=row.id, customer_id=row.customer_id, payment_id=row.payment_id, shopping_id=row.shopping_id,
                     invoice_id=row.invoice_id, status=row.status, total=row.total, version=row.version)


def order_statuses(order_ids: list[str]) -> dict[str, str]:
    """Status per known order id (unknown ids are left out); one query."""
    return dict(models.Order.objects.filter(id__in=list(order_ids)).values_list("id", "status"))
