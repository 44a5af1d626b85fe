"""Query facade of customers for other modules: frozen dataclasses read from the customers read model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from customers import models
from eventstore.ids import is_valid_id


@dataclass(frozen=True)
class CustomerInfo:
    id: str
    name: str
    sms_number: str
    enabled: bool
    version: int


def find_customer(customer_id: str) -> CustomerInfo | None:
    """The customer, or ``None`` for an unknown or malformed id."""
    if not is_valid_id(customer_id):
        return None
    row = models.Customer.objects.filter(id=customer_id).first()
    if row is None:
        return None
    return CustomerInfo(id=row.id, name=row.name, sms_number=row.sms_number, enabled=row.enabled,
                        version=row.version)


def customer_names(customer_ids: Iterable[str]) -> dict[str, str]:
    """The names of the known customers among ``customer_ids``, by id (one query)."""
    ids = [customer_id for customer_id in set(customer_ids) if is_valid_id(customer_id)]
    return dict(models.Customer.objects.filter(id__in=ids).values_list("id", "name")) if ids else {}
