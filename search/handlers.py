"""Search handlers of the durables declared in ``search.apps`` (events.md §7, §8).

``search-orders`` builds the ``search_order`` rows: OrderCreated inserts (the customer's name from the cache,
``created_at`` = the event's ``occurred_at``; products and stores missing from the caches are read into them);
the other six order events need the row (missing → ``RetryLater``) and apply only if their aggregate version
is newer than the row's: the status, and for OrderReadied the delivered items and total (which a late
OrderReadied still brings if no newer items were applied). ``search-customers``, ``search-stores`` and
``search-products`` keep the caches; every event of their streams advances the cached row's version (ADR 34).
"""

from __future__ import annotations

import datetime as dt

from eventstore import codec, rows, schema, store
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


def _items(lines) -> list[dict]:
    """Search items of order lines: ids, price and quantity; the API adds the current names (ADR 34)."""
    return [{"product_id": line.product_id, "store_id": line.store_id, "price": schema.money(line.price),
             "quantity": line.quantity} for line in lines]


def _keys(items: list[dict]) -> dict:
    return {"product_ids": sorted({i["product_id"] for i in items}), "store_ids": sorted({i["store_id"] for i in items})}


_ORDERS = Order._meta.db_table
_INSERT_ORDER = (f"INSERT INTO {_ORDERS} (order_id, customer_id, customer_name, items, product_ids, store_ids, total,"
                 " status, created_at, updated_at, version, items_version)"
                 " VALUES (%s, %s, %s, %s::jsonb, %s::varchar[], %s::varchar[], %s, %s, %s, %s, %s, %s)"
                 " ON CONFLICT (order_id) DO NOTHING")
_CASTS = {"items": "::jsonb", "product_ids": "::varchar[]", "store_ids": "::varchar[]"}

# The order rows are written with deferred statements (``store.write``, ADR 27): nothing reads a result.


_NEW_ORDER = f"SELECT EXISTS (SELECT 1 FROM {_ORDERS} WHERE order_id = %s), {caches.KNOWN_FOR_ORDER}"


def on_order_created(received: Received) -> None:
    """Insert the order row (status pending); an existing row is left alone. Whether the row exists, which of
    its products and stores the caches hold and the customer's cached name come in one statement; the
    others are read through the facades into the caches (the API names items from them)."""
    event = received.message
    product_ids, store_ids = {line.product_id for line in event.items}, {line.store_id for line in event.items}
    [(exists, *found)] = rows.fetch(_NEW_ORDER, [event.id, sorted(product_ids), sorted(store_ids), event.customer_id])
    if exists:
        return
    customer_name = caches.complete_for_order(*found, product_ids=product_ids, store_ids=store_ids,
                                              customer_id=event.customer_id)
    items = _items(event.items)
    at = _occurred_at(received)
    total = schema.money(sum((i["price"] * i["quantity"] for i in items), schema.money(0)))
    keys = _keys(items)
    store.write(_INSERT_ORDER, [event.id, event.customer_id, customer_name,
                                codec.dumps(items), keys["product_ids"], keys["store_ids"], total, domain.PENDING,
                                at, at, received.aggregate_version, received.aggregate_version])


def on_order_changed(received: Received) -> None:
    """The six events after creation: row missing → retry; a newer version sets the status (and for
    OrderReadied the delivered items and total)."""
    event, version = received.message, received.aggregate_version
    row = rows.first(Order, "order_id = %s", [event.id], for_update=True)
    if row is None:
        raise RetryLater(f"search order {event.id} does not exist yet")
    fields: dict = {}
    if version > row.version:
        fields.update(status=domain.STATUS_AFTER[received.name], version=version, updated_at=_occurred_at(received))
    if received.name == "ordersapi.OrderReadied" and version > row.items_version:
        items = _items(event.items)
        fields.update(items=codec.dumps(items), total=schema.money(event.total), items_version=version,
                      **_keys(items))
    if fields:
        store.write(f"UPDATE {_ORDERS} SET " + ", ".join(f"{name} = %s{_CASTS.get(name, '')}" for name in fields)
                    + " WHERE order_id = %s", [*fields.values(), row.order_id])


# --- search-customers / search-stores / search-products ----------------------------------------


def on_customer_registered(received: Received) -> None:
    event = received.message
    caches.customer_registered(customer_id=event.id, name=event.name, version=received.aggregate_version)


def on_store_created(received: Received) -> None:
    event = received.message
    caches.store_created(store_id=event.id, name=event.name, version=received.aggregate_version)


def on_customer_changed(received: Received) -> None:
    """CustomerSmsChanged, CustomerEnabled, CustomerDisabled: nothing search keeps changes; the version does."""
    caches.customer_changed(customer_id=received.message.id, version=received.aggregate_version)


def on_store_rebranded(received: Received) -> None:
    event = received.message
    caches.store_changed(store_id=event.id, version=received.aggregate_version, name=event.name)


def on_store_participation_toggled(received: Received) -> None:
    """Search keeps no participation; the version advances."""
    caches.store_changed(store_id=received.message.id, version=received.aggregate_version)


def on_product_added(received: Received) -> None:
    event = received.message
    caches.product_added(product_id=event.id, store_id=event.store_id, name=event.name,
                         version=received.aggregate_version)


def on_product_rebranded(received: Received) -> None:
    event = received.message
    caches.product_changed(product_id=event.id, version=received.aggregate_version, name=event.name)


def on_product_repriced(received: Received) -> None:
    """ProductPriceIncreased, ProductPriceDecreased: search keeps no price; the version advances."""
    caches.product_changed(product_id=received.message.id, version=received.aggregate_version)


def on_product_removed(received: Received) -> None:
    caches.product_removed(product_id=received.message.id, version=received.aggregate_version)
