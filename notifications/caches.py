"""Notifications' copy of customers' names and SMS numbers (events.md §8): version guard, facade fallback.

Rows keep the customers aggregate ``version``; an event changes a row only when its version is higher. A row
that does not exist yet is read through ``customers.public`` and inserted if still absent. All functions
run inside the caller's transaction.
"""

from __future__ import annotations

from customers import public as customers_public
from eventstore import rows
from notifications.models import CustomerCache


def current_number(customer_id: str) -> str:
    """The customer's current SMS number, read through the customers facade on a miss; ``""`` if unknown."""
    number = rows.value(CustomerCache, "sms_number", "id = %s", [customer_id])
    if number is None:
        info = customers_public.find_customer(customer_id)
        if info is None:
            return ""
        CustomerCache.objects.bulk_create([CustomerCache(id=info.id, name=info.name, sms_number=info.sms_number,
                                                         version=info.version)], ignore_conflicts=True)
        number = rows.value(CustomerCache, "sms_number", "id = %s", [customer_id])
    return number


def customer_registered(*, customer_id: str, name: str, sms_number: str, version: int) -> None:
    """Insert the customer, or update an older row."""
    fields = {"name": name, "sms_number": sms_number, "version": version}
    CustomerCache.objects.bulk_create([CustomerCache(id=customer_id, **fields)], ignore_conflicts=True)
    CustomerCache.objects.filter(id=customer_id, version__lt=version).update(**fields)


def sms_number_changed(*, customer_id: str, sms_number: str, version: int) -> None:
    """Set the number if ``version`` is newer; a missing row is first read through the facade."""
    if not CustomerCache.objects.filter(id=customer_id).exists():
        current_number(customer_id)
    CustomerCache.objects.filter(id=customer_id, version__lt=version).update(sms_number=sms_number, version=version)
