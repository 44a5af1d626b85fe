"""Notification rules (product.md F11, architecture.md §12, ADR 17). Pure Python.

One notification per order and kind. Its life: ``pending`` (recorded in the order event's transaction) →
``sending`` (claimed by one sender, committed before the SMS goes out) → ``sent``; or back to ``pending``
after a send the gateway certainly did not take, until ``SMS_MAX_ATTEMPTS`` attempts, then ``failed``; or
``failed`` at once when the outcome of a send is unknown (at most once: never sent twice automatically).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CREATED, READY, CANCELED, COMPLETED = "created", "ready", "canceled", "completed"
KINDS = (CREATED, READY, CANCELED, COMPLETED)

KIND_OF = {
    "ordersapi.OrderCreated": CREATED,
    "ordersapi.OrderReadied": READY,
    "ordersapi.OrderCanceled": CANCELED,
    "ordersapi.OrderCompleted": COMPLETED,
}
"""The order events that text the customer; rejections are not texted (the customer is still at the kiosk)."""

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUSES = (PENDING, SENDING, SENT, FAILED)

NO_NUMBER = "the customer has no SMS number"
BEING_SENT = "the notification is being sent"

_TEXTS = {
    CREATED: "MallBots: we received your order {order_id}. We will text you when it is ready for pickup at the depot.",
    READY: "MallBots: your order {order_id} is ready for pickup at the depot. Amount due: {total}.",
    CANCELED: "MallBots: your order {order_id} has been canceled. Any payment authorization has been released.",
    COMPLETED: "MallBots: thank you! Your order {order_id} is complete.",
}


def text(kind: str, *, order_id: str, total: Decimal = Decimal("0")) -> str:
    """The exact SMS text of product.md F11; ``{total}`` with exactly two decimals."""
    amount = Decimal(total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return _TEXTS[kind].format(order_id=order_id, total=f"{amount:.2f}")


def after_refusal(attempts: int, max_attempts: int) -> str:
    """Status after an attempt the gateway certainly did not take: retried until ``max_attempts``."""
    return FAILED if attempts >= max_attempts else PENDING


def unknown_outcome(detail: str, attempts: int) -> str:
    """``last_error`` of a send whose outcome is unknown (the row goes to ``failed``, never retried by itself)."""
    return (f"outcome of attempt {attempts} unknown ({detail}): the SMS may have been sent, so it is not sent "
            "again automatically; resend it if the customer did not get it")
