"""Payments' integration event and the saga command it handles (events.md §4.8, §5)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from eventstore.registry import message

INVOICE_EVENTS = "mallbots.payments.events.Invoice"
PAYMENTS_COMMANDS = "mallbots.payments.commands"

ZERO = Decimal("0.00")


@message("paymentsapi.InvoicePaid", INVOICE_EVENTS)
@dataclass(frozen=True)
class InvoicePaid:
    """The invoice ``id`` (= order id) was paid at the depot; ``amount`` was captured."""

    id: str = ""
    order_id: str = ""
    amount: Decimal = ZERO


@message("paymentsapi.ConfirmPayment", PAYMENTS_COMMANDS)
@dataclass(frozen=True)
class ConfirmPayment:
    """Saga step 3: confirm payment ``id`` for order ``order_id`` of ``customer_id`` covering ``amount``."""

    id: str = ""
    amount: Decimal = ZERO
    order_id: str = ""
    customer_id: str = ""
