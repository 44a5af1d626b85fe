"""Baskets handlers.

In-transaction (``@handles``): the Basket read-model projection (with its items and total) and the
translation of BasketStarted, BasketCanceled and BasketCheckedOut into ``basketsapi`` events. Broker
(durables declared in ``BasketsConfig.ready``): ``baskets-stores`` and ``baskets-products`` keep the
store and product caches (``baskets.caches``).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Max, Subquery
from django.db.models.functions import Coalesce

from baskets import caches, contracts, domain, models
from eventstore import outbox
from eventstore.messaging import Received
from eventstore.registry import handles, projection
from eventstore.repository import RecordedEvent
from stores import contracts as stores_contracts

# ---------------------------------------------------------------- projection


def _touch(recorded: RecordedEvent, **fields) -> None:
    models.Basket.objects.filter(id=recorded.stream_id).update(
        **fields, version=recorded.version, updated_at=recorded.occurred_at)


def _next_position(basket_id: str):
    """``max(position) + 1`` of the basket's lines, computed by the INSERT itself."""
    last = (models.BasketItem.objects.filter(basket_id=basket_id).values("basket_id")
            .annotate(last=Max("position")).values("last"))
    return Coalesce(Subquery(last), 0) + 1


def _project_line(recorded: RecordedEvent, product_id: str) -> None:
    """Set the product's line and the basket's total to the aggregate's state after the save.

    Setting (not adding to) the quantity keeps the projection right when one save holds several events.
    """
    basket: domain.Basket = recorded.aggregate
    line = basket.items.get(product_id)
    rows = models.BasketItem.objects.filter(basket_id=recorded.stream_id, product_id=product_id)
    if line is None:
        rows.delete()
    elif not rows.update(quantity=line.quantity):
        models.BasketItem.objects.create(
            basket_id=recorded.stream_id, position=_next_position(recorded.stream_id), store_id=line.store_id,
            product_id=product_id, store_name=line.store_name, product_name=line.product_name, price=line.price,
            quantity=line.quantity)
    _touch(recorded, total=basket.total)


@projection(domain.BasketStarted)
def project_basket_started(recorded: RecordedEvent) -> None:
    models.Basket.objects.create(
        id=recorded.stream_id, customer_id=recorded.event.customer_id, payment_id="", status=domain.OPEN,
        total=Decimal("0.00"), version=recorded.version, created_at=recorded.occurred_at,
        updated_at=recorded.occurred_at)


@projection(domain.BasketItemAdded, domain.BasketItemRemoved)
def project_line_changed(recorded: RecordedEvent) -> None:
    _project_line(recorded, recorded.event.product_id)


@projection(domain.BasketCanceled)
def project_basket_canceled(recorded: RecordedEvent) -> None:
    models.BasketItem.objects.filter(basket_id=recorded.stream_id).delete()
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
