"""Baskets' integration events (events.md §4.4) on ``mallbots.baskets.events.Basket``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from eventstore.registry import message

BASKET_EVENTS = "mallbots.baskets.events.Basket"


@dataclass(frozen=True)
class BasketItem:
    """A checked-out line with the names and price captured when it was added to the basket."""

    store_id: str = ""
    product_id: str = ""
    store_name: str = ""
    product_name: str = ""
    price: Decimal = Decimal("0.00")
    quantity: int = 0


@message("basketsapi.BasketStarted", BASKET_EVENTS)
@dataclass(frozen=True)
class BasketStarted:
    id: str = ""
    customer_id: str = ""


@message("basketsapi.BasketCanceled", BASKET_EVENTS)
@dataclass(frozen=True)
class BasketCanceled:
    """Cancelled at the kiosk or expired as abandoned."""

    id: str = ""


@message("basketsapi.BasketCheckedOut", BASKET_EVENTS)
@dataclass(frozen=True)
class BasketCheckedOut:
    """Checkout: ordering creates the order (id = basket id) from these items."""

    id: str = ""
    customer_id: str = ""
    payment_id: str = ""
    items: tuple[BasketItem, ...] = ()
