"""Baskets handlers.

In-transaction (``@handles``): the Basket read-model projection (with its items and total) and the
translation of BasketStarted, BasketCanceled and BasketCheckedOut into ``basketsapi`` events. Broker
(durables declared in ``BasketsConfig.ready``): ``baskets-stores`` and ``baskets-products`` keep the
store and product caches (``baskets.caches``).
"""

from __future__ import annotations

from decimal import Decimal

from baskets import caches, contracts, domain, models
from eventstore import outbox, store
from eventstore.messaging import Received
from eventstore.registry import handles, projection
from eventstore.repository import RecordedEvent
from stores import contracts as stores_contracts

# ---------------------------------------------------------------- projection


_BASKETS, _ITEMS = models.Basket._meta.db_table, models.BasketItem._meta.db_table
_INSERT_BASKET = (f"INSERT INTO {_BASKETS} (id, customer_id, payment_id, status, total, version, created_at, updated_at)"
                  " VALUES (%s, %s, '', %s, 0, %s, %s, %s)")
_UPSERT_LINE = (
    f"INSERT INTO {_ITEMS} (basket_id, position, store_id, product_id, store_name, product_name, price, quantity)"
    f" VALUES (%s, COALESCE((SELECT max(position) FROM {_ITEMS} WHERE basket_id = %s), 0) + 1, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (basket_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity")
_DELETE_LINE = f"DELETE FROM {_ITEMS} WHERE basket_id = %s AND product_id = %s"
_DELETE_LINES = f"DELETE FROM {_ITEMS} WHERE basket_id = %s"

# Projections write with deferred statements (``store.write``): nothing here reads a result, and the rows
# reach the database in the transaction's next message, in the order written (ADR 12, ADR 27).


def _touch(recorded: RecordedEvent, **fields) -> None:
    """Set ``fields`` (column = value), the version and the last activity of the basket row."""
    columns = [*fields, "version", "updated_at"]
    store.write(f"UPDATE {_BASKETS} SET " + ", ".join(f"{column} = %s" for column in columns) + " WHERE id = %s",
                [*fields.values(), recorded.version, recorded.occurred_at, recorded.stream_id])


def _project_line(recorded: RecordedEvent, product_id: str) -> None:
    """Set the product's line and the basket's total to the aggregate's state after the save.

    Setting (not adding to) the quantity keeps the projection right when one save holds several events.
    A new line goes after the basket's last position (the order in which products were first added).
    """
    basket: domain.Basket = recorded.aggregate
    line = basket.items.get(product_id)
    if line is None:
        store.write(_DELETE_LINE, [recorded.stream_id, product_id])
    else:
        store.write(_UPSERT_LINE, [recorded.stream_id, recorded.stream_id, line.store_id, product_id, line.store_name,
                                   line.product_name, line.price, line.quantity])
    _touch(recorded, total=basket.total)


@projection(domain.BasketStarted)
def project_basket_started(recorded: RecordedEvent) -> None:
    store.write(_INSERT_BASKET, [recorded.stream_id, recorded.event.customer_id, domain.OPEN, recorded.version,
                                 recorded.occurred_at, recorded.occurred_at])


@projection(domain.BasketItemAdded, domain.BasketItemRemoved)
def project_line_changed(recorded: RecordedEvent) -> None:
    _project_line(recorded, recorded.event.product_id)


@projection(domain.BasketCanceled)
def project_basket_canceled(recorded: RecordedEvent) -> None:
    store.write(_DELETE_LINES, [recorded.stream_id])
    _touch(recorded, status=domain.CANCELED, total=Decimal("0.00"))


@projection(domain.BasketCheckedOut)
def project_basket_checked_out(recorded: RecordedEvent) -> None:
    _touch(recorded, status=domain.CHECKED_OUT, payment_id=recorded.event.payment_id)


# ---------------------------------------------------------------- integration events


@handles(domain.BasketStarted)
def publish_basket_started(recorded: RecordedEvent) -> None:
    outbox.publish(contracts.BasketStarted(id=recorded.stream_id, customer_id=recorded.event.customer_id),
                   recorded=recorded)


@handles(domain.BasketCanceled)
def publish_basket_canceled(recorded: RecordedEvent) -> None:
    outbox.publish(contracts.BasketCanceled(id=recorded.stream_id), recorded=recorded)


@handles(domain.BasketCheckedOut)
def publish_basket_checked_out(recorded: RecordedEvent) -> None:
    basket: domain.Basket = recorded.aggregate
    items = tuple(contracts.BasketItem(store_id=line.store_id, product_id=line.product_id,
                                       store_name=line.store_name, product_name=line.product_name,
                                       price=line.price, quantity=line.quantity) for line in basket.lines)
    outbox.publish(contracts.BasketCheckedOut(id=recorded.stream_id, customer_id=basket.customer_id,
                                              payment_id=recorded.event.payment_id, items=items),
                   recorded=recorded)


# ---------------------------------------------------------------- baskets-stores


def on_store_created(received: Received) -> None:
    event: stores_contracts.StoreCreated = received.message
    row = {"name": event.name, "participating": True}
    caches.apply_store(event.id, received.aggregate_version, row, created=row)


def on_store_participation_toggled(received: Received) -> None:
    event: stores_contracts.StoreParticipationToggled = received.message
    caches.apply_store(event.id, received.aggregate_version, {"participating": event.participating})


def on_store_rebranded(received: Received) -> None:
    event: stores_contracts.StoreRebranded = received.message
    caches.apply_store(event.id, received.aggregate_version, {"name": event.name})


# ---------------------------------------------------------------- baskets-products


def on_product_added(received: Received) -> None:
    event: stores_contracts.ProductAdded = received.message
    row = {"store_id": event.store_id, "name": event.name, "price": event.price}
    caches.apply_product(event.id, received.aggregate_version, row, created=row)


def on_product_rebranded(received: Received) -> None:
    event: stores_contracts.ProductRebranded = received.message
    caches.apply_product(event.id, received.aggregate_version, {"name": event.name})


def on_product_price_changed(received: Received) -> None:
    event: stores_contracts.ProductPriceIncreased | stores_contracts.ProductPriceDecreased = received.message
    caches.apply_product(event.id, received.aggregate_version, {"price": event.price})


def on_product_removed(received: Received) -> None:
    event: stores_contracts.ProductRemoved = received.message
    caches.apply_product(event.id, received.aggregate_version, {"removed": True})
