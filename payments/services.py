"""Payments use cases: one function per command, each one transaction (architecture.md §6).

Every function loads its aggregate(s), calls the domain and saves; projections and the outbox run
inside the same transaction through the handlers registered in ``payments.handlers``.
"""

from __future__ import annotations

from decimal import Decimal

from eventstore.errors import DomainError
from eventstore.ids import new_id
from eventstore.repository import Repository
from eventstore.transactions import use_case
from payments.domain import CANNOT_CAPTURE, Invoice, Payment

payments = Repository(Payment)
invoices = Repository(Invoice)


def authorize_payment(*, customer_id: str, amount: Decimal) -> str:
    """Authorize ``amount`` on the customer's card (kiosk). Emits PaymentAuthorized; returns the new id.

    Raises ``DomainError``: customer id blank, then amount not > 0.
    """
    with use_case():
        payment = Payment.authorize(new_id(), customer_id=customer_id, amount=amount)
        payments.create(payment)
    return payment.id


def confirm_payment(*, payment_id: str, order_id: str, customer_id: str, amount: Decimal) -> None:
    """Saga step 3: reserve the payment for ``order_id`` (PaymentConfirmed; repeat for the same order: no event).

    Raises ``NotFound("payment")``; ``DomainError`` other customer, amount too small, cannot be confirmed.
    """
    with use_case():
        payment = payments.load(payment_id)
        if payment.confirm(order_id=order_id, customer_id=customer_id, amount=amount):
            payments.save(payment)


def release_payment(*, payment_id: str, order_id: str, customer_id: str) -> bool:
    """Release the authorization of an order that does not go ahead (PaymentReleased).

    Unknown payment, another customer's payment, one confirmed for another order, captured or already
    released: nothing happens. Returns whether the payment was released.
    """
    with use_case():
        payment = payments.find(payment_id)
        if payment is None or not payment.release(order_id=order_id, customer_id=customer_id):
            return False
        payments.save(payment)
    return True


def create_invoice(*, order_id: str, payment_id: str, amount: Decimal) -> bool:
    """Create the pending invoice of a ready order (id = order id; InvoiceCreated).

    An invoice that already exists is left alone (False). A concurrent creator makes the save raise
    ``ConcurrencyError``; the redelivered message then finds the invoice.
    """
    with use_case():
        if invoices.find(order_id) is not None:
            return False
        invoices.create(Invoice.create(order_id, order_id=order_id, payment_id=payment_id, amount=amount))
    return True


def pay_invoice(*, invoice_id: str) -> None:
    """Pay the invoice at the depot: capture its order's confirmed payment for the invoice amount.

    Emits PaymentCaptured on the payment and InvoicePaid on the invoice (→ ``paymentsapi.InvoicePaid``).
    This use case changes two aggregates of this module in one transaction, the payment first; a
    concurrent change to either raises ``ConcurrencyError`` and nothing is saved.
    Checks, in order: invoice exists (``NotFound("invoice")``), invoice pending (``invoice cannot be
    paid for``), payment exists and is confirmed for this order (``the payment cannot be captured``).
    """
    with use_case():
        invoice = invoices.load(invoice_id)
        invoice.pay()
        payment = payments.find(invoice.payment_id)
        if payment is None:
            raise DomainError(CANNOT_CAPTURE)
        payment.capture(invoice_id=invoice.id, order_id=invoice.order_id, amount=invoice.amount)
        payments.save(payment)
        invoices.save(invoice)


def cancel_invoice(*, order_id: str) -> bool:
    """The order was cancelled: a pending invoice is cancelled (InvoiceCanceled), a paid one flagged
    for a refund (InvoiceRefundRequired). No invoice, or nothing to change: False."""
    with use_case():
        invoice = invoices.find(order_id)
        if invoice is None or not invoice.cancel():
            return False
        invoices.save(invoice)
    return True
