"""Card authorizations and invoices (product.md §6.8, §6.9): the Payment and Invoice aggregates.

Commands that would change nothing (``=`` and ``ignore`` in the state tables) record no event; the
methods return whether they changed anything where a caller needs to know.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eventstore.domain import Aggregate, DomainEvent
from eventstore.errors import DomainError
from eventstore.registry import domain_event
from eventstore.schema import money

CUSTOMER_ID_BLANK = "the customer id cannot be blank"
AMOUNT_NOT_POSITIVE = "the payment amount must be greater than zero"
OTHER_CUSTOMER = "the payment belongs to another customer"
AMOUNT_TOO_SMALL = "the payment does not cover the order total"
CANNOT_CONFIRM = "the payment cannot be confirmed"
CANNOT_CAPTURE = "the payment cannot be captured"
INVOICE_CANNOT_BE_PAID = "invoice cannot be paid for"

AUTHORIZED, CONFIRMED, CAPTURED, RELEASED = "authorized", "confirmed", "captured", "released"
PENDING, PAID, CANCELED = "pending", "paid", "canceled"

ZERO = Decimal("0.00")


@domain_event
@dataclass(frozen=True)
class PaymentAuthorized(DomainEvent):
    name = "payments.PaymentAuthorized"
    customer_id: str
    amount: Decimal


@domain_event
@dataclass(frozen=True)
class PaymentConfirmed(DomainEvent):
    name = "payments.PaymentConfirmed"
    order_id: str
    amount: Decimal


@domain_event
@dataclass(frozen=True)
class PaymentCaptured(DomainEvent):
    name = "payments.PaymentCaptured"
    invoice_id: str
    amount: Decimal


@domain_event
@dataclass(frozen=True)
class PaymentReleased(DomainEvent):
    name = "payments.PaymentReleased"
    order_id: str


class Payment(Aggregate):
    """A pre-authorization of a customer's card: authorized → confirmed (for one order) → captured,
    or released when its order does not go ahead."""

    stream_type = "payments.Payment"
    thing = "payment"
    snapshot_name = "payments.PaymentV1"

    customer_id: str
    amount: Decimal
    status: str
    order_id: str
    captured_amount: Decimal
    invoice_id: str

    @classmethod
    def authorize(cls, id: str, *, customer_id: str, amount: Decimal) -> "Payment":
        """Checks, in order: customer id not blank, amount > 0."""
        customer_id = customer_id.strip()
        if not customer_id:
            raise DomainError(CUSTOMER_ID_BLANK)
        amount = money(amount)
        if amount <= ZERO:
            raise DomainError(AMOUNT_NOT_POSITIVE)
        payment = cls(id)
        payment.raise_event(PaymentAuthorized(customer_id=customer_id, amount=amount))
        return payment

    def confirm(self, *, order_id: str, customer_id: str, amount: Decimal) -> bool:
        """Reserve the payment for ``order_id``. Authorized: checks the customer, then the amount.
        Confirmed for the same order: nothing to do (False). Anything else: ``the payment cannot be confirmed``."""
        if self.status == CONFIRMED and self.order_id == order_id:
            return False
        if self.status != AUTHORIZED:
            raise DomainError(CANNOT_CONFIRM)
        if customer_id != self.customer_id:
            raise DomainError(OTHER_CUSTOMER)
        if self.amount < money(amount):
            raise DomainError(AMOUNT_TOO_SMALL)
        self.raise_event(PaymentConfirmed(order_id=order_id, amount=money(amount)))
        return True

    def capture(self, *, invoice_id: str, order_id: str, amount: Decimal) -> None:
        """Capture ``amount`` for the invoice of ``order_id``: only a payment confirmed for that order."""
        if self.status != CONFIRMED or self.order_id != order_id:
            raise DomainError(CANNOT_CAPTURE)
        self.raise_event(PaymentCaptured(invoice_id=invoice_id, amount=money(amount)))

    def release(self, *, order_id: str, customer_id: str) -> bool:
        """Release the authorization because ``order_id`` of ``customer_id`` does not go ahead.

        Only the payment's own customer releases it; a confirmed payment only for the order it was
        confirmed for; captured and released payments are left alone. Returns whether it was released.
        """
        if customer_id != self.customer_id:
            return False
        if self.status == AUTHORIZED or (self.status == CONFIRMED and self.order_id == order_id):
            self.raise_event(PaymentReleased(order_id=order_id))
            return True
        return False

    def apply_PaymentAuthorized(self, event: PaymentAuthorized) -> None:
        self.customer_id = event.customer_id
        self.amount = event.amount
        self.status = AUTHORIZED
        self.order_id = ""
        self.captured_amount = ZERO
        self.invoice_id = ""

    def apply_PaymentConfirmed(self, event: PaymentConfirmed) -> None:
        self.status = CONFIRMED
        self.order_id = event.order_id

    def apply_PaymentCaptured(self, event: PaymentCaptured) -> None:
        self.status = CAPTURED
        self.invoice_id = event.invoice_id
        self.captured_amount = event.amount

    def apply_PaymentReleased(self, event: PaymentReleased) -> None:
        self.status = RELEASED

    def restore_state(self, state: dict[str, Any]) -> None:
        super().restore_state(state)
        self.amount = money(self.amount)
        self.captured_amount = money(self.captured_amount)


@domain_event
@dataclass(frozen=True)
class InvoiceCreated(DomainEvent):
    name = "payments.InvoiceCreated"
    order_id: str
    payment_id: str
    amount: Decimal


@domain_event
@dataclass(frozen=True)
class InvoicePaid(DomainEvent):
    name = "payments.InvoicePaid"


@domain_event
@dataclass(frozen=True)
class InvoiceCanceled(DomainEvent):
    name = "payments.InvoiceCanceled"


@domain_event
@dataclass(frozen=True)
class InvoiceRefundRequired(DomainEvent):
    name = "payments.InvoiceRefundRequired"


class Invoice(Aggregate):
    """The bill for a ready order (id = order id): pending → paid, or canceled with its order.

    A paid invoice is never cancelled; cancelling it flags a refund for staff attention instead.
    """

    stream_type = "payments.Invoice"
    thing = "invoice"
    snapshot_name = "payments.InvoiceV1"

    order_id: str
    payment_id: str
    amount: Decimal
    status: str
    refund_required: bool

    @classmethod
    def create(cls, id: str, *, order_id: str, payment_id: str, amount: Decimal) -> "Invoice":
        invoice = cls(id)
        invoice.raise_event(InvoiceCreated(order_id=order_id, payment_id=payment_id, amount=money(amount)))
        return invoice

    def pay(self) -> None:
        """Pending → paid; otherwise ``invoice cannot be paid for``. The caller captures the payment."""
        if self.status != PENDING:
            raise DomainError(INVOICE_CANNOT_BE_PAID)
        self.raise_event(InvoicePaid())

    def cancel(self) -> bool:
        """Pending → canceled; paid → refund required (once); canceled → nothing. Returns whether it changed."""
        if self.status == PENDING:
            self.raise_event(InvoiceCanceled())
            return True
        if self.status == PAID and not self.refund_required:
            self.raise_event(InvoiceRefundRequired())
            return True
        return False

    def apply_InvoiceCreated(self, event: InvoiceCreated) -> None:
        self.order_id = event.order_id
        self.payment_id = event.payment_id
        self.amount = event.amount
        self.status = PENDING
        self.refund_required = False

    def apply_InvoicePaid(self, event: InvoicePaid) -> None:
        self.status = PAID

    def apply_InvoiceCanceled(self, event: InvoiceCanceled) -> None:
        self.status = CANCELED

    def apply_InvoiceRefundRequired(self, event: InvoiceRefundRequired) -> None:
        self.refund_required = True

    def restore_state(self, state: dict[str, Any]) -> None:
        super().restore_state(state)
        self.amount = money(self.amount)
