"""Notifications handlers of the durables declared in ``notifications.apps`` (events.md §7, §8).

``notifications-orders``: OrderCreated, OrderReadied, OrderCanceled and OrderCompleted each record one
notification for the order (kinds created, ready, canceled, completed), sent after commit. An event older
than one this durable already handled for the same order is stale (``eventstore.guards.is_newest``): a late
OrderReadied after OrderCanceled texts nothing. ``notifications-customers`` keeps the customer cache.
"""

from __future__ import annotations

from decimal import Decimal

from eventstore import guards
from eventstore.messaging import Received
from notifications import caches, domain, services


def on_order_event(received: Received) -> None:
    event = received.message
    if not guards.is_newest(received):
        return
    services.notify(order_id=event.id, kind=domain.KIND_OF[received.name], customer_id=event.customer_id,
                    total=getattr(event, "total", Decimal("0")))


def on_customer_registered(received: Received) -> None:
    event = received.message
    caches.customer_registered(customer_id=event.id, name=event.name, sms_number=event.sms_number,
                               version=received.aggregate_version)


def on_sms_number_changed(received: Received) -> None:
    event = received.message
    caches.sms_number_changed(customer_id=event.id, sms_number=event.sms_number, version=received.aggregate_version)


def on_customer_changed(received: Received) -> None:
    """CustomerEnabled, CustomerDisabled: the cache keeps neither; its version advances (ADR 34)."""
    caches.customer_changed(customer_id=received.message.id, version=received.aggregate_version)
