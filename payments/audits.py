"""Payments' invariants for ``manage.py audit``: the money adds up (declared in ``PaymentsConfig.ready``)."""

from __future__ import annotations

from eventstore.audit import Finding, grace_cutoff, recent_floor, rows, sample, scalar
from ordering import public as ordering_public

CLOSED = ("rejected", "cancelled")


def captured_equals_paid() -> Finding:
    """Captured payments and paid invoices match one to one: each paid invoice's payment is captured, each
    captured payment belongs to a paid invoice, and (over the newest events) the captured amount is the
    invoice amount."""
    unmatched = rows(
        "SELECT 'invoice ' || i.id FROM payments_invoice i LEFT JOIN payments_payment p ON p.id = i.payment_id"
        " WHERE i.status = 'paid' AND (p.id IS NULL OR p.status <> 'captured')"
        " UNION ALL SELECT 'payment ' || p.id FROM payments_payment p WHERE p.status = 'captured'"
        " AND NOT EXISTS (SELECT 1 FROM payments_invoice i WHERE i.payment_id = p.id AND i.status = 'paid')"
        " LIMIT 100")
    floor = recent_floor("eventstore_event", "global_position")
    wrong = rows(
        "SELECT e.stream_id FROM eventstore_event e JOIN payments_invoice i ON i.id = e.payload->>'invoice_id'"
        " WHERE e.global_position > %s AND e.stream_type = 'payments.Payment'"
        " AND e.event_name = 'payments.PaymentCaptured' AND (e.payload->>'amount')::numeric <> i.amount LIMIT 100",
        [floor])
    captured = scalar("SELECT count(*) FROM payments_payment WHERE status = 'captured'")
    problems = [r[0] for r in unmatched] + [f"payment {r[0]} captured another amount" for r in wrong]
    return Finding("money-adds-up", len(problems), sample(problems) if problems else
                   f"{captured} captured payments, each the amount of its paid invoice")


def payments_follow_orders() -> Finding:
    """A payment held for an order that was rejected or cancelled (before the grace period) is released,
    unless its invoice was paid (then it is captured and the invoice flagged for a refund)."""
    held = rows("SELECT id, order_id FROM payments_payment WHERE status IN ('authorized', 'confirmed')"
                " AND order_id <> '' AND updated_at < %s", [grace_cutoff()])
    statuses = ordering_public.order_statuses([order_id for _, order_id in held])
    kept = [payment_id for payment_id, order_id in held if statuses.get(order_id) in CLOSED]
    pending_for_closed = rows(
        "SELECT id FROM payments_invoice WHERE status = 'pending' AND updated_at < %s", [grace_cutoff()])
    closed = ordering_public.order_statuses([r[0] for r in pending_for_closed])
    stale_invoices = [order_id for order_id, status in closed.items() if status in CLOSED]
    problems = [f"payment {p} held for a closed order" for p in kept] + [
        f"invoice {i} pending for a cancelled order" for i in stale_invoices]
    return Finding("payments-follow-orders", len(problems), sample(problems) if problems else
                   f"{len(held)} payments held, none for a closed order")
