"""Notifications' copy of customers' names and SMS numbers (events.md §8) through ``eventstore.copies``: version
guard, read-through of ``customers.public`` on a miss. All functions run inside the caller's transaction.
"""

from __future__ import annotations

from customers import public as customers_public
from eventstore import copies
from notifications.models import CustomerCache


def _customer_row(customer_id: str) -> CustomerCache | None:
    info = customers_public.find_customer(customer_id)
    return None if info is None else CustomerCache(id=info.id, name=info.name, sms_number=info.sms_number,
                                                   version=info.version)


def current_number(customer_id: str) -> str:
    """The customer's current SMS number, read through the customers facade on a miss; ``""`` if unknown."""
    return copies.read(CustomerCache, customer_id, _customer_row, column="sms_number") or ""


def customer_registered(*, customer_id: str, name: str, sms_number: str, version: int) -> None:
    """Insert the customer, or update an older row."""
    copies.upsert(CustomerCache, customer_id, version, name=name, sms_number=sms_number)


def sms_number_changed(*, customer_id: str, sms_number: str, version: int) -> None:
    """Set the number if ``version`` is newer; a missing row is first read through the facade."""
    copies.update(CustomerCache, customer_id, version, _customer_row, sms_number=sms_number)


def customer_changed(*, customer_id: str, version: int) -> None:
    """Advance the row to ``version`` if newer (an event that changes nothing kept here, ADR 34); a missing row
    is first read through the facade."""
    copies.update(CustomerCache, customer_id, version, _customer_row)
