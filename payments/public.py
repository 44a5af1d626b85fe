"""Read-only facade for other modules (e.g. ordering: "is the order's invoice paid?")."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from eventstore.ids import is_valid_id
from payments import models


@dataclass(frozen=True)
class PaymentInfo:
    id: str
    customer_id: str
    amount: Decimal
    status: str
    order_id: str
    version: int


@dataclass(frozen=True)
class InvoiceInfo:
    id: str
    order_id: str
    payment_id: str
    amount: Decimal
    status: str
    refund_required: bool
    version: int


def find_payment(payment_id: str) -> PaymentInfo | None:
    row = models.Payment.objects.filter(id=payment_id).first() if is_valid_id(payment_id) else None
    if row is None:
        return None
    return PaymentInfo(id=row.id, customer_id=row.customer_id, amount=row.amount, status=row.status,
                       order_id=row.order_id, version=row.version)


def find_invoice(invoice_id: str) -> InvoiceInfo | None:
    """The invoice of an order (invoice id = order id), or None."""
    row = models.Invoice.objects.filter(id=invoice_id).first() if is_valid_id(invoice_id) else None
    if row is None:
        return None
    return InvoiceInfo(id=row.id, order_id=row.order_id, payment_id=row.payment_id, amount=row.amount,
                       status=row.status, refund_required=row.refund_required, version=row.version)


def invoice_is_paid(order_id: str) -> bool:
    invoice = find_invoice(order_id)
    return invoice is not None and invoice.status == "paid"


def invoice_statuses(order_ids: list[str]) -> dict[str, str]:
    """Invoice status per order id that has an invoice (invoice id = order id); one query."""
    return dict(models.Invoice.objects.filter(id__in=list(order_ids)).values_list("id", "status"))
