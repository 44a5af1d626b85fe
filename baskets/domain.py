"""The kiosk basket (product.md §6.4): the Basket aggregate.

Items keep the store name, product name and price captured when the product was first added; adding
it again only adds to the quantity. Commands that would change nothing (``=``) record no event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from eventstore import schema
from eventstore.domain import Aggregate, DomainEvent
from eventstore.errors import DomainError
from eventstore.registry import domain_event
from eventstore.schema import LINES_MAX, MONEY_MAX, QUANTITY_MAX, money

CUSTOMER_ID_BLANK = "the customer id cannot be blank"
CANNOT_MODIFY = "the basket cannot be modified"
QUANTITY_NEGATIVE = "the item quantity cannot be negative"
QUANTITY_ZERO = "the item quantity cannot be zero"
CANNOT_CANCEL = "the basket cannot be cancelled"
CHECKOUT_CANNOT_MODIFY = "baskets checkout: the basket cannot be modified"
STORE_NOT_PARTICIPATING = "the store is not participating"
CHECKOUT_NO_ITEMS = "baskets checkout: the basket has no items"
CHECKOUT_PAYMENT_BLANK = "baskets checkout: the payment id cannot be blank"
QUANTITY_TOO_LARGE = f"the item quantity cannot exceed {QUANTITY_MAX}"
TOO_MANY_PRODUCTS = f"the basket cannot hold more than {LINES_MAX} products"
TOTAL_TOO_LARGE = f"the basket total cannot exceed {MONEY_MAX}"

OPEN, CANCELED, CHECKED_OUT = "open", "canceled", "checked_out"
REASON_CUSTOMER, REASON_ABANDONED = "customer", "abandoned"


@dataclass(frozen=True)
class BasketLine:
    """One basket line: the product with the names and price captured when it was first added."""

    store_id: str
    product_id: str
    store_name: str
    product_name: str
    price: Decimal
    quantity: int

    @property
    def subtotal(self) -> Decimal:
        return self.price * self.quantity


@dataclass(frozen=True)
class ProductChoice:
    """What the kiosk adds: the product and its store as the catalog knows them now."""

    store_id: str
    product_id: str
    store_name: str
    product_name: str
    price: Decimal
    store_participating: bool


@domain_event
@dataclass(frozen=True)
class BasketStarted(DomainEvent):
    name = "baskets.BasketStarted"
    customer_id: str


@domain_event
@dataclass(frozen=True)
class BasketItemAdded(DomainEvent):
    name = "baskets.BasketItemAdded"
    store_id: str
    product_id: str
    store_name: str
    product_name: str
    price: Decimal
    quantity: int


@domain_event
@dataclass(frozen=True)
class BasketItemRemoved(DomainEvent):
    name = "baskets.BasketItemRemoved"
    product_id: str
    quantity: int


@domain_event
@dataclass(frozen=True)
class BasketCanceled(DomainEvent):
    """``reason``: ``customer`` (kiosk) or ``abandoned`` (expired by the scheduler)."""

    name = "baskets.BasketCanceled"
    reason: str


@domain_event
@dataclass(frozen=True)
class BasketCheckedOut(DomainEvent):
    name = "baskets.BasketCheckedOut"
    payment_id: str


def _check_quantity(quantity: int) -> None:
    if quantity < 0:
        raise DomainError(QUANTITY_NEGATIVE)
    if quantity == 0:
        raise DomainError(QUANTITY_ZERO)


class Basket(Aggregate):
    """open → canceled (customer or abandoned) or checked_out (with a payment id).

    A cancelled basket keeps no items.
    """

    stream_type = "baskets.Basket"
    thing = "basket"
    snapshot_name = "baskets.BasketV1"

    customer_id: str
    status: str
    payment_id: str
    items: dict[str, BasketLine]

    @classmethod
    def start(cls, id: str, *, customer_id: str) -> "Basket":
        """Checks: customer id not blank (whether the customer exists is the saga's business)."""
        customer_id = customer_id.strip()
        if not customer_id:
            raise DomainError(CUSTOMER_ID_BLANK)
        basket = cls(id)
        basket.raise_event(BasketStarted(customer_id=customer_id))
        return basket

    @property
    def lines(self) -> list[BasketLine]:
        """Lines in the order they were first added."""
        return list(self.items.values())

    @property
    def total(self) -> Decimal:
        return money(sum((line.subtotal for line in self.items.values()), Decimal("0")))

    def add_item(self, choice: ProductChoice, quantity: int) -> None:
        """Checks, in order: basket open, quantity not negative, not zero, store participating; then the
        bounds that keep every basket orderable, invoiceable and payable (ADR 20): the line's quantity
        at most ``QUANTITY_MAX``, at most ``LINES_MAX`` products, the total at most ``MONEY_MAX``."""
        if self.status != OPEN:
            raise DomainError(CANNOT_MODIFY)
        _check_quantity(quantity)
        if not choice.store_participating:
            raise DomainError(STORE_NOT_PARTICIPATING)
        line = self.items.get(choice.product_id)
        if line is not None:
            choice = replace(choice, store_id=line.store_id, store_name=line.store_name,
                             product_name=line.product_name, price=line.price)
        if quantity + (line.quantity if line else 0) > QUANTITY_MAX:
            raise DomainError(QUANTITY_TOO_LARGE)
        if line is None and len(self.items) >= LINES_MAX:
            raise DomainError(TOO_MANY_PRODUCTS)
        if self.total + money(choice.price) * quantity > MONEY_MAX:
            raise DomainError(TOTAL_TOO_LARGE)
        self.raise_event(BasketItemAdded(store_id=choice.store_id, product_id=choice.product_id,
                                         store_name=choice.store_name, product_name=choice.product_name,
                                         price=money(choice.price), quantity=quantity))

    def remove_item(self, product_id: str, quantity: int) -> None:
        """Checks, in order: basket open, quantity not negative, not zero. A product not in the basket: nothing."""
        if self.status != OPEN:
            raise DomainError(CANNOT_MODIFY)
        _check_quantity(quantity)
        if product_id in self.items:
            self.raise_event(BasketItemRemoved(product_id=product_id, quantity=quantity))

    def cancel(self) -> None:
        """The customer walks away at the kiosk: open → canceled (reason ``customer``)."""
        if self.status != OPEN:
            raise DomainError(CANNOT_CANCEL)
        self.raise_event(BasketCanceled(reason=REASON_CUSTOMER))

    def expire(self, *, now: dt.datetime, last_activity: dt.datetime, idle_after: dt.timedelta) -> bool:
        """Cancel an open basket idle for at least ``idle_after`` (reason ``abandoned``); else nothing."""
        if self.status != OPEN or now - last_activity < idle_after:
            return False
        self.raise_event(BasketCanceled(reason=REASON_ABANDONED))
        return True

    def checkout(self, payment_id: str) -> None:
        """Checks, in order: basket open, has items, payment id not blank (the saga checks the payment)."""
        if self.status != OPEN:
            raise DomainError(CHECKOUT_CANNOT_MODIFY)
        if not self.items:
            raise DomainError(CHECKOUT_NO_ITEMS)
        payment_id = payment_id.strip()
        if not payment_id:
            raise DomainError(CHECKOUT_PAYMENT_BLANK)
        self.raise_event(BasketCheckedOut(payment_id=payment_id))

    def apply_BasketStarted(self, event: BasketStarted) -> None:
        self.customer_id = event.customer_id
        self.status = OPEN
        self.payment_id = ""
        self.items = {}

    def apply_BasketItemAdded(self, event: BasketItemAdded) -> None:
        line = self.items.get(event.product_id)
        if line is None:
            self.items[event.product_id] = BasketLine(
                store_id=event.store_id, product_id=event.product_id, store_name=event.store_name,
                product_name=event.product_name, price=event.price, quantity=event.quantity)
        else:
            self.items[event.product_id] = replace(line, quantity=line.quantity + event.quantity)

    def apply_BasketItemRemoved(self, event: BasketItemRemoved) -> None:
        line = self.items.get(event.product_id)
        if line is None:
            return
        if line.quantity - event.quantity <= 0:
            del self.items[event.product_id]
        else:
            self.items[event.product_id] = replace(line, quantity=line.quantity - event.quantity)

    def apply_BasketCanceled(self, event: BasketCanceled) -> None:
        self.status = CANCELED
        self.items = {}

    def apply_BasketCheckedOut(self, event: BasketCheckedOut) -> None:
        self.status = CHECKED_OUT
        self.payment_id = event.payment_id

    def snapshot_state(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "status": self.status, "payment_id": self.payment_id,
                "items": [schema.to_dict(line) for line in self.items.values()]}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.customer_id = state["customer_id"]
        self.status = state["status"]
        self.payment_id = state["payment_id"]
        lines = [schema.from_dict(BasketLine, item) for item in state["items"]]
        self.items = {line.product_id: line for line in lines}
