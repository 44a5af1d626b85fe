"""Ordering's integration events and commands (events.md §4.5, §5).

Events go out on ``mallbots.ordering.events.Order``; the saga's commands to ordering itself on
``mallbots.ordering.commands``. Payload keys are the reference's snake_case names; every field has its
zero value as default so a payload missing a key still parses.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from eventstore.registry import message

ORDER_EVENTS = "mallbots.ordering.events.Order"
ORDERING_COMMANDS = "mallbots.ordering.commands"

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OrderItem:
    """One order line as other modules see it (OrderCreated, OrderReadied)."""

    product_id: str = ""
    store_id: str = ""
    price: Decimal = ZERO
    quantity: int = 0


@message("ordersapi.OrderCreated", ORDER_EVENTS)
@dataclass(frozen=True)
class OrderCreated:
    id: str = ""
    customer_id: str = ""
    payment_id: str = ""
    shopping_id: str = ""
    items: tuple[OrderItem, ...] = ()


@message("ordersapi.OrderRejected", ORDER_EVENTS)
@dataclass(frozen=True)
class OrderRejected:
    id: str = ""
    customer_id: str = ""
    payment_id: str = ""
    reason: str = ""


@message("ordersapi.OrderApproved", ORDER_EVENTS)
@dataclass(frozen=True)
class OrderApproved:
    id: str = ""
    customer_id: str = ""
    payment_id: str = ""
    shopping_id: str = ""


@message("ordersapi.OrderStarted", ORDER_EVENTS)
@dataclass(frozen=True)
class OrderStarted:
    id: str = ""
    customer_id: str = ""
    payment_id: str = ""
    shopping_id: str = ""
    bot_id: str = ""


@message("ordersapi.OrderReadied", ORDER_EVENTS)
@dataclass(frozen=True)
class OrderReadied:
    """``total`` is the delivered total; ``items`` the delivered items only."""

    id: str = ""
    customer_id: str = ""
    payment_id: str = ""
    total: Decimal = ZERO
    items: tuple[OrderItem, ...] = ()


@message("ordersapi.OrderCanceled", ORDER_EVENTS)
@dataclass(frozen=True)
class OrderCanceled:
    """``reason``: ``customer``, ``staff``, ``items-unavailable`` or ``shopping-list-canceled``."""

    id: str = ""
    customer_id: str = ""
    payment_id: str = ""
    reason: str = ""


@message("ordersapi.OrderCompleted", ORDER_EVENTS)
@dataclass(frozen=True)
class OrderCompleted:
    id: str = ""
    customer_id: str = ""
    invoice_id: str = ""


@message("ordersapi.ApproveOrder", ORDERING_COMMANDS)
@dataclass(frozen=True)
class ApproveOrder:
    id: str = ""
    shopping_id: str = ""


@message("ordersapi.RejectOrder", ORDERING_COMMANDS)
@dataclass(frozen=True)
class RejectOrder:
    """``reason`` is the saga's last failure text."""

    id: str = ""
    reason: str = ""
