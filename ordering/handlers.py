"""Ordering handlers: the read-model projection and integration events (in-transaction), and the
message handlers for checkouts, depot and payment events, and the saga's commands to ordering."""

from __future__ import annotations

from eventstore import codec, outbox, store
from eventstore.commands import command_handler
from eventstore.registry import handles, projection
from eventstore.repository import RecordedEvent
from ordering import contracts, domain, models, saga, services


def _items(items) -> list[dict]:
    return [{"product_id": i.product_id, "store_id": i.store_id, "store_name": i.store_name,
             "product_name": i.product_name, "price": i.price, "quantity": i.quantity} for i in items]


def _contract_items(items) -> tuple[contracts.OrderItem, ...]:
    return tuple(contracts.OrderItem(product_id=i.product_id, store_id=i.store_id, price=i.price,
                                     quantity=i.quantity) for i in items)


_ORDERS = models.Order._meta.db_table
_COLUMNS = ("customer_id", "payment_id", "shopping_id", "invoice_id", "status", "reason", "total", "items",
            "updated_at", "version")
_INSERT_ORDER = (f"INSERT INTO {_ORDERS} (id, created_at, {', '.join(_COLUMNS)})"
                 f" VALUES (%s, %s, {', '.join('%s::jsonb' if c == 'items' else '%s' for c in _COLUMNS)})")
_UPDATE_ORDER = (f"UPDATE {_ORDERS} SET " + ", ".join(f"{c} = %s::jsonb" if c == "items" else f"{c} = %s"
                                                       for c in _COLUMNS) + " WHERE id = %s")


@projection(domain.OrderCreated, domain.OrderApproved, domain.OrderRejected, domain.OrderStarted,
         domain.OrderReadied, domain.OrderCanceled, domain.OrderCompleted)
def project_order(recorded: RecordedEvent) -> None:
    """The order row is inserted by ``OrderCreated`` and overwritten with the aggregate's state after
    (deferred statements: ``store.write``, ADR 27)."""
    order: domain.Order = recorded.aggregate
    values = [order.customer_id, order.payment_id, order.shopping_id, order.invoice_id, order.status, order.reason,
              order.total, codec.dumps(_items(order.items)), recorded.occurred_at, recorded.version]
    if isinstance(recorded.event, domain.OrderCreated):
        store.write(_INSERT_ORDER, [order.id, recorded.occurred_at, *values])
    else:
        store.write(_UPDATE_ORDER, [*values, order.id])


def _integration_event(recorded: RecordedEvent):
    order: domain.Order = recorded.aggregate
    event = recorded.event
    common = {"id": order.id, "customer_id": order.customer_id}
    if isinstance(event, domain.OrderCreated):
        return contracts.OrderCreated(**common, payment_id=order.payment_id, shopping_id="",
                                      items=_contract_items(event.items))
    if isinstance(event, domain.OrderApproved):
        return contracts.OrderApproved(**common, payment_id=order.payment_id, shopping_id=event.shopping_id)
    if isinstance(event, domain.OrderRejected):
        return contracts.OrderRejected(**common, payment_id=order.payment_id, reason=event.reason)
    if isinstance(event, domain.OrderStarted):
        return contracts.OrderStarted(**common, payment_id=order.payment_id, shopping_id=order.shopping_id,
                                      bot_id=event.bot_id)
    if isinstance(event, domain.OrderReadied):
        return contracts.OrderReadied(**common, payment_id=order.payment_id, total=event.total,
                                      items=_contract_items(event.items))
    if isinstance(event, domain.OrderCanceled):
        return contracts.OrderCanceled(**common, payment_id=order.payment_id, reason=event.reason)
    return contracts.OrderCompleted(**common, invoice_id=event.invoice_id)


@handles(domain.OrderCreated, domain.OrderApproved, domain.OrderRejected, domain.OrderStarted,
         domain.OrderReadied, domain.OrderCanceled, domain.OrderCompleted)
def publish_order_event(recorded: RecordedEvent) -> None:
    outbox.publish(_integration_event(recorded), recorded=recorded)


@handles(domain.OrderCanceled)
def note_cancellation_for_saga(recorded: RecordedEvent) -> None:
    saga.note_cancellation(recorded.aggregate)


def on_basket_checked_out(received) -> None:
    """BasketCheckedOut → order id = basket id with the captured items; an existing order is ignored."""
    basket = received.message
    services.create_order_from_checkout(
        basket_id=basket.id, customer_id=basket.customer_id, payment_id=basket.payment_id,
        items=[{"product_id": i.product_id, "store_id": i.store_id, "store_name": i.store_name,
                "product_name": i.product_name, "price": i.price, "quantity": i.quantity} for i in basket.items])


def on_shopping_list_started(received) -> None:
    services.start_order(order_id=received.message.order_id, bot_id=received.message.bot_id)


def on_shopping_list_completed(received) -> None:
    picked = {item.product_id: item.picked_quantity for item in received.message.items}
    services.ready_order_from_list(order_id=received.message.order_id, picked=picked)


def on_shopping_list_canceled(received) -> None:
    services.cancel_order_for_list(order_id=received.message.order_id)


def on_invoice_paid(received) -> None:
    services.complete_order_from_invoice(order_id=received.message.order_id, invoice_id=received.message.id)


@command_handler
def approve_order(received) -> None:
    services.approve_order(order_id=received.message.id, shopping_id=received.message.shopping_id)


@command_handler
def reject_order(received) -> None:
    services.reject_order(order_id=received.message.id, reason=received.message.reason)
