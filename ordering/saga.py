"""The create-order saga ``cosec.CreateOrder`` (events.md §6), built on ``eventstore.sagas``.

Steps: 0 reject the order (compensation only); 1 authorize the customer; 2 create the shopping list
(compensation: cancel it, skipped while no list id is known); 3 confirm the payment; 4 initiate
shopping; 5 approve the order. A forward success on an order cancelled meanwhile compensates from the
current step (rule 5).
"""

from __future__ import annotations

from customers.contracts import AuthorizeCustomer
from depot.contracts import (CancelShoppingListCommand, CreatedShoppingListReply, CreateShoppingListCommand,
                             CreateShoppingListItem, InitiateShoppingCommand)
from eventstore import sagas
from eventstore.schema import money
from ordering.contracts import ApproveOrder, RejectOrder
from ordering.domain import CANCELLED, Order
from payments.contracts import ConfirmPayment

NAME = "cosec.CreateOrder"
REPLY_CHANNEL = "mallbots.cosec.replies.CreateOrder"


def _store_shopping_id(data: sagas.SagaData, reply: CreatedShoppingListReply) -> None:
    data["shopping_id"] = reply.id


def _cancel_list(data: sagas.SagaData) -> CancelShoppingListCommand | None:
    return CancelShoppingListCommand(id=data["shopping_id"]) if data["shopping_id"] else None


ORDER_CANCELLED = "order_cancelled"


def _order_cancelled(data: sagas.SagaData) -> bool:
    """Rule 5: the order was cancelled before the step's success took effect (``note_cancellation``). An order
    that step 5 approved (it has its shopping id) and that was cancelled after is past the saga: a bot may
    complete the list step 4 made available before the saga reads step 5's reply, and the order is then
    cancelled for items unavailable; the depot and payments follow that cancellation themselves (ADR 26)."""
    return bool(data.get(ORDER_CANCELLED))


def note_cancellation(order: Order) -> None:
    """In the cancelling transaction: tell the order's saga, if it still runs, that its order was cancelled before
    approval (``sagas.amend``: a reply it handles concurrently is redelivered and sees it; ADR 29)."""
    if order.status == CANCELLED and not order.shopping_id:
        sagas.amend(CREATE_ORDER, order.id, {ORDER_CANCELLED: True})


CREATE_ORDER = sagas.Saga(
    name=NAME,
    reply_channel=REPLY_CHANNEL,
    steps=[
        sagas.Step(compensation=lambda data: RejectOrder(id=data["order_id"], reason=data.last_error)),
        sagas.Step(action=lambda data: AuthorizeCustomer(id=data["customer_id"])),
        sagas.Step(
            action=lambda data: CreateShoppingListCommand(order_id=data["order_id"], items=tuple(
                CreateShoppingListItem(product_id=i["product_id"], store_id=i["store_id"], quantity=i["quantity"])
                for i in data["items"])),
            compensation=_cancel_list,
            reply_handlers={"depotapi.CreatedShoppingListReply": _store_shopping_id},
        ),
        sagas.Step(action=lambda data: ConfirmPayment(id=data["payment_id"], amount=money(data["total"]),
                                                      order_id=data["order_id"], customer_id=data["customer_id"])),
        sagas.Step(action=lambda data: InitiateShoppingCommand(id=data["shopping_id"])),
        sagas.Step(action=lambda data: ApproveOrder(id=data["order_id"], shopping_id=data["shopping_id"])),
    ],
    on_forward_success=_order_cancelled,
)


def start(order: Order) -> None:
    """Start the saga for a new order, in the caller's transaction (saga id = order id)."""
    sagas.start(CREATE_ORDER, order.id, {
        "order_id": order.id,
        "customer_id": order.customer_id,
        "payment_id": order.payment_id,
        "shopping_id": "",
        "items": [{"product_id": i.product_id, "store_id": i.store_id, "price": i.price, "quantity": i.quantity}
                  for i in order.items],
        "total": order.total,
    })
