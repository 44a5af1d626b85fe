"""The Order aggregate (product.md §6.5). Pure Python: no ORM, no I/O.

Commands that come from messages distinguish "ignore" (return without an event) from "retry"
(``RetryLater``: the order is not yet in a state where the message applies).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from eventstore.domain import Aggregate, DomainEvent
from eventstore.errors import DomainError, RetryLater
from eventstore.registry import domain_event
from eventstore.schema import LINES_MAX, MONEY_MAX, QUANTITY_MAX, money

PENDING, APPROVED, IN_PROGRESS, READY = "pending", "approved", "in-progress", "ready"
COMPLETED, REJECTED, CANCELLED = "completed", "rejected", "cancelled"
STATUSES = (PENDING, APPROVED, IN_PROGRESS, READY, COMPLETED, REJECTED, CANCELLED)
OPEN = (PENDING, APPROVED, IN_PROGRESS, READY)

CUSTOMER, STAFF, ITEMS_UNAVAILABLE, SHOPPING_LIST_CANCELED = "customer", "staff", "items-unavailable", "shopping-list-canceled"

E1 = "create order command: the order has no items"
E2 = "create order command: the customer id cannot be blank"
E3 = "create order command: the payment id cannot be blank"
E4 = "the order cannot be cancelled"
E5 = "the order cannot be approved"
E6 = "the order cannot be rejected"
E7 = "the order cannot be readied"
E8 = "the order cannot be completed"
E9 = "the shopping list is not completed"
E10 = "the invoice has not been paid"
E11 = "create order command: the product id cannot be blank"
E12 = "create order command: the store id cannot be blank"
E13 = "create order command: the item quantity cannot be negative"
E14 = "create order command: the item quantity cannot be zero"
E15 = "create order command: the item price cannot be negative"
PRODUCT_NOT_OF_STORE = "create order command: the product does not belong to the store"
STORE_NOT_PARTICIPATING = "create order command: the store is not participating"
QUANTITY_TOO_LARGE = f"create order command: the item quantity cannot exceed {QUANTITY_MAX}"
TOO_MANY_PRODUCTS = f"create order command: the order cannot hold more than {LINES_MAX} products"
TOTAL_TOO_LARGE = f"create order command: the order total cannot exceed {MONEY_MAX}"


@dataclass(frozen=True)
class OrderItem:
    product_id: str
    store_id: str
    store_name: str
    product_name: str
    price: Decimal
    quantity: int


def total_of(items: tuple[OrderItem, ...]) -> Decimal:
    return money(sum((item.price * item.quantity for item in items), Decimal("0")))


@domain_event
@dataclass(frozen=True)
class OrderCreated(DomainEvent):
    name = "ordering.OrderCreated"
    customer_id: str
    payment_id: str
    items: tuple[OrderItem, ...]


@domain_event
@dataclass(frozen=True)
class OrderApproved(DomainEvent):
    name = "ordering.OrderApproved"
    shopping_id: str


@domain_event
@dataclass(frozen=True)
class OrderRejected(DomainEvent):
    name = "ordering.OrderRejected"
    reason: str


@domain_event
@dataclass(frozen=True)
class OrderStarted(DomainEvent):
    name = "ordering.OrderStarted"
    bot_id: str


@domain_event
@dataclass(frozen=True)
class OrderReadied(DomainEvent):
    name = "ordering.OrderReadied"
    items: tuple[OrderItem, ...]
    total: Decimal


@domain_event
@dataclass(frozen=True)
class OrderCanceled(DomainEvent):
    name = "ordering.OrderCanceled"
    reason: str


@domain_event
@dataclass(frozen=True)
class OrderCompleted(DomainEvent):
    name = "ordering.OrderCompleted"
    invoice_id: str


def validated_items(items: list[dict]) -> tuple[OrderItem, ...]:
    """Check each line (E11, E12, E13/E14, E15) and merge lines of the same product; then the bounds
    (ADR 20): each merged quantity at most ``QUANTITY_MAX``, at most ``LINES_MAX`` products.

    Merged lines sum their quantities and keep the first line's price and names.
    """
    merged: dict[str, OrderItem] = {}
    for line in items:
        product_id = str(line.get("product_id", "")).strip()
        store_id = str(line.get("store_id", "")).strip()
        quantity = int(line.get("quantity", 0))
        price = money(line.get("price", 0))
        if not product_id:
            raise DomainError(E11)
        if not store_id:
            raise DomainError(E12)
        if quantity < 0:
            raise DomainError(E13)
        if quantity == 0:
            raise DomainError(E14)
        if price < 0:
            raise DomainError(E15)
        if product_id in merged:
            merged[product_id] = replace(merged[product_id], quantity=merged[product_id].quantity + quantity)
        else:
            merged[product_id] = OrderItem(product_id, store_id, str(line.get("store_name", "")).strip(),
                                           str(line.get("product_name", "")).strip(), price, quantity)
    if any(item.quantity > QUANTITY_MAX for item in merged.values()):
        raise DomainError(QUANTITY_TOO_LARGE)
    if len(merged) > LINES_MAX:
        raise DomainError(TOO_MANY_PRODUCTS)
    return tuple(merged.values())


class Order(Aggregate):
    stream_type = "ordering.Order"
    thing = "order"
    snapshot_name = "ordering.OrderV1"

    status: str
    customer_id: str
    payment_id: str
    shopping_id: str
    invoice_id: str
    bot_id: str
    items: tuple[OrderItem, ...]
    reason: str

    @classmethod
    def create(cls, id: str, *, customer_id: str, payment_id: str, items: list[dict]) -> "Order":
        """New pending order. Checks E1, E2, E3, then each item (see ``validated_items``), then the total
        (at most ``MONEY_MAX``: an order no payment can cover is refused)."""
        validated = cls.check_request(customer_id=customer_id, payment_id=payment_id, items=items)
        if total_of(validated) > MONEY_MAX:
            raise DomainError(TOTAL_TOO_LARGE)
        order = cls(id)
        order.raise_event(OrderCreated(customer_id=customer_id.strip(), payment_id=payment_id.strip(),
                                       items=validated))
        return order

    @staticmethod
    def check_request(*, customer_id: str, payment_id: str, items: list[dict]) -> tuple[OrderItem, ...]:
        """E1, E2, E3, then each item: the checks of a create request that need no lookup; the merged items."""
        if not items:
            raise DomainError(E1)
        if not customer_id.strip():
            raise DomainError(E2)
        if not payment_id.strip():
            raise DomainError(E3)
        return validated_items(items)

    @property
    def total(self) -> Decimal:
        return total_of(self.items)

    def approve(self, shopping_id: str) -> None:
        if self.status == APPROVED:
            return
        if self.status != PENDING:
            raise DomainError(E5)
        self.raise_event(OrderApproved(shopping_id=shopping_id))

    def reject(self, reason: str) -> None:
        if self.status in (REJECTED, CANCELLED):
            return
        if self.status != PENDING:
            raise DomainError(E6)
        self.raise_event(OrderRejected(reason=reason))

    def start(self, bot_id: str) -> None:
        """A bot started the order's shopping list: approved → in-progress; pending → retry; else ignore."""
        if self.status == PENDING:
            raise RetryLater("order still pending")
        if self.status == APPROVED:
            self.raise_event(OrderStarted(bot_id=bot_id))

    def ready_from_list(self, picked: dict[str, int]) -> None:
        """The shopping list was completed: pending → retry; approved/in-progress → ready; else ignore."""
        if self.status == PENDING:
            raise RetryLater("order still pending")
        if self.status in (APPROVED, IN_PROGRESS):
            self._ready(picked)

    def ready_by_staff(self, picked: dict[str, int] | None) -> None:
        """Staff recovery: only approved/in-progress (E7), and only with a completed list (E9)."""
        if self.status not in (APPROVED, IN_PROGRESS):
            raise DomainError(E7)
        if picked is None:
            raise DomainError(E9)
        self._ready(picked)

    def _ready(self, picked: dict[str, int]) -> None:
        delivered = tuple(replace(item, quantity=picked.get(item.product_id, 0)) for item in self.items
                          if picked.get(item.product_id, 0) > 0)
        if not delivered:
            self.raise_event(OrderCanceled(reason=ITEMS_UNAVAILABLE))
        else:
            self.raise_event(OrderReadied(items=delivered, total=total_of(delivered)))

    def complete_from_invoice(self, invoice_id: str) -> None:
        if self.status == READY:
            self.raise_event(OrderCompleted(invoice_id=invoice_id))

    def complete_by_staff(self, *, invoice_paid: bool) -> None:
        if self.status != READY:
            raise DomainError(E8)
        if not invoice_paid:
            raise DomainError(E10)
        self.raise_event(OrderCompleted(invoice_id=self.id))

    def cancel(self, reason: str, *, invoice_paid: bool) -> None:
        """Kiosk or staff cancellation: open orders only, and never once the invoice is paid (E4)."""
        if self.status not in OPEN or invoice_paid:
            raise DomainError(E4)
        self.raise_event(OrderCanceled(reason=reason))

    def cancel_for_list(self) -> None:
        """The shopping list was cancelled: pending → retry (the saga decides first); approved/in-progress → cancelled."""
        if self.status == PENDING:
            raise RetryLater("order still pending")
        if self.status in (APPROVED, IN_PROGRESS):
            self.raise_event(OrderCanceled(reason=SHOPPING_LIST_CANCELED))

    def apply_OrderCreated(self, event: OrderCreated) -> None:
        self.status = PENDING
        self.customer_id = event.customer_id
        self.payment_id = event.payment_id
        self.items = tuple(event.items)
        self.shopping_id = self.invoice_id = self.bot_id = self.reason = ""

    def apply_OrderApproved(self, event: OrderApproved) -> None:
        self.status = APPROVED
        self.shopping_id = event.shopping_id

    def apply_OrderRejected(self, event: OrderRejected) -> None:
        self.status = REJECTED
        self.reason = event.reason

    def apply_OrderStarted(self, event: OrderStarted) -> None:
        self.status = IN_PROGRESS
        self.bot_id = event.bot_id

    def apply_OrderReadied(self, event: OrderReadied) -> None:
        self.status = READY
        self.items = tuple(event.items)

    def apply_OrderCanceled(self, event: OrderCanceled) -> None:
        self.status = CANCELLED
        self.reason = event.reason

    def apply_OrderCompleted(self, event: OrderCompleted) -> None:
        self.status = COMPLETED
        self.invoice_id = event.invoice_id

    def restore_state(self, state: dict) -> None:
        super().restore_state(state)
        self.items = tuple(OrderItem(**{**item, "price": money(item["price"])}) for item in state["items"])
