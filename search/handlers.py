"""Search handlers of the durables declared in ``search.apps`` (events.md §7, §8).

``search-orders`` builds the ``search_order`` rows: OrderCreated inserts (names from the caches, ``created_at``
= the event's ``occurred_at``); the other six order events need the row (missing → ``RetryLater``) and apply
only if their aggregate version is newer than the row's: the status, and for OrderReadied the delivered items
and total (which a late OrderReadied still brings if no newer items were applied). ``search-customers``,
``search-stores`` and ``search-products`` keep the caches.
"""

from __future__ import annotations

import datetime as dt

from eventstore import codec, schema
from eventstore.errors import RetryLater
from eventstore.messaging import Received
from search import caches, domain
from search.models import Order

# --- search-orders -----------------------------------------------------------------------------


def _occurred_at(received: Received) -> dt.datetime:
    text = received.metadata.get("occurred_at") or received.envelope.sent_at
    try:
        return codec.parse_timestamp(text)
    except (TypeError, ValueError):
        return codec.utcnow()


def _items(lines, known: dict[str, dict] | None = None) -> list[dict]:
    """Search items for order lines; names from ``known`` items of the order, else from the caches."""
    known = known or {}
    items = []
    for line in lines:
        before = known.get(line.product_id, {})
        items.append({
            "product_id": line.product_id, "store_id": line.store_id,
            "product_name": before.get("product_name") or caches.product_name(line.product_id),
            "store_name": before.get("store_name") or caches.store_name(line.store_id),
            "price": schema.money(line.price), "quantity": line.quantity,
        })
    return items


def _keys(items: list[dict]) -> dict:
    return {"product_ids": sorted({i["product_id"] for i in items}), "store_ids": sorted({i["store_id"] for i in items})}


def on_order_created(received: Received) -> None:
    """Insert the order row (status pending); an existing row is left alone."""
    event = received.message
    if Order.objects.filter(order_id=event.id).exists():
        return
    items = _items(event.items)
    at = _occurred_at(received)
    total = schema.money(sum((i["price"] * i["quantity"] for i in items), schema.money(0)))
    Order.objects.bulk_create([Order(
        order_id=event.id, customer_id=event.customer_id, customer_name=caches.customer_name(event.customer_id),
        items=items, total=total, status=domain.PENDING, created_at=at, updated_at=at,
        version=received.aggregate_version, items_version=received.aggregate_version, **_keys(items))],
        ignore_conflicts=True)


def on_order_changed(received: Received) -> None:
    """The six events after creation: row missing → retry; a newer version sets the status (and for
    OrderReadied the delivered items and total)."""
    event, version = received.message, received.aggregate_version
    row = Order.objects.select_for_update().filter(order_id=event.id).first()
    if row is None:
        raise RetryLater(f"search order {event.id} does not exist yet")
    fields: dict = {}
    if version > row.version:
        fields.update(status=domain.STATUS_AFTER[received.name], version=version, updated_at=_occurred_at(received))
    if received.name == "ordersapi.OrderReadied" and version > row.items_version:
        items = _items(event.items, known={i["product_id"]: i for i in row.items})
        fields.update(items=items, total=schema.money(event.total), items_version=version, **_keys(items))
    if fields:
        Order.objects.filter(order_id=row.order_id).update(**fields)


# --- search-customers / search-stores / search-products ----------------------------------------


def on_customer_registered(received: Received) -> None:
    event = received.message
    caches.customer_registered(customer_id=event.id, name=event.name, version=received.aggregate_version)


def on_store_created(received: Received) -> None:
    event = received.message
    caches.store_created(store_id=event.id, name=event.name, version=received.aggregate_version)


def on_store_rebranded(received: Received) -> None:
    event = received.message
    caches.store_rebranded(store_id=event.id, name=event.name, version=received.aggregate_version)


def on_product_added(received: Received) -> None:
    event = received.message
    caches.product_added(product_id=event.id, store_id=event.store_id, name=event.name,
                         version=received.aggregate_version)


def on_product_rebranded(received: Received) -> None:
    event = received.message
    caches.product_rebranded(product_id=event.id, name=event.name, version=received.aggregate_version)


def on_product_removed(received: Received) -> None:
    caches.product_removed(product_id=received.message.id, version=received.aggregate_version)
