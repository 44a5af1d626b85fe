"""Ordering's invariants for ``manage.py audit`` (declared in ``OrderingConfig.ready``)."""

from __future__ import annotations

from eventstore.audit import Finding, grace_cutoff, recent_floor, rows, sample
from payments import public as payments_public

_OPEN_SAGA = ("SELECT 1 FROM eventstore_sagainstance s WHERE s.saga_name = 'cosec.CreateOrder'"
              " AND s.saga_id = o.id AND s.status IN ('running', 'compensating')")


def checkouts_ordered() -> Finding:
    """Every basket checked out (among the newest ``AUDIT_SCAN_ROWS`` events) before the grace period
    has exactly one order, with the basket's id."""
    floor = recent_floor("eventstore_event", "global_position")
    missing = rows(
        "SELECT c.stream_id FROM eventstore_event c WHERE c.global_position > %s"
        " AND c.stream_type = 'baskets.Basket' AND c.event_name = 'baskets.BasketCheckedOut' AND c.occurred_at < %s"
        " AND NOT EXISTS (SELECT 1 FROM eventstore_event o WHERE o.stream_type = 'ordering.Order'"
        "                 AND o.stream_id = c.stream_id AND o.version = 1) LIMIT 100", [floor, grace_cutoff()])
    return Finding("checkouts-ordered", len(missing), f"checkouts without an order: {sample([r[0] for r in missing])}"
                   if missing else "every checkout became exactly one order")


def orders_settled() -> Finding:
    """No order is ``pending`` past the grace period without its saga still running."""
    stuck = rows(f"SELECT o.id FROM ordering_order o WHERE o.status = 'pending' AND o.created_at < %s"
                 f" AND NOT EXISTS ({_OPEN_SAGA}) LIMIT 100", [grace_cutoff()])
    return Finding("orders-settled", len(stuck), f"pending with no running saga: {sample([r[0] for r in stuck])}"
                   if stuck else "no order is pending without its saga")


def completed_orders_paid() -> Finding:
    """Every order completed since the newest ``AUDIT_SCAN_ROWS`` events began has a paid invoice."""
    floor = recent_floor("eventstore_event", "global_position")
    completed = [r[0] for r in rows(
        "SELECT stream_id FROM eventstore_event WHERE global_position > %s AND stream_type = 'ordering.Order'"
        " AND event_name = 'ordering.OrderCompleted'", [floor])]
    invoices = payments_public.invoice_statuses(completed)
    unpaid = [order_id for order_id in completed if invoices.get(order_id) != "paid"]
    return Finding("completed-orders-paid", len(unpaid), f"completed without a paid invoice: {sample(unpaid)}"
                   if unpaid else f"{len(completed)} recently completed, every one paid")
