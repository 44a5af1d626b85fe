"""Payments handlers.

In-transaction (``@handles``): the Payment and Invoice read-model projections, and the translation of
InvoicePaid into ``paymentsapi.InvoicePaid``. Broker (durables declared in ``PaymentsConfig.ready``):
``payments-commands`` (ConfirmPayment) and ``payments-orders`` (OrderRejected, OrderReadied, OrderCanceled).
"""

from __future__ import annotations

from eventstore import guards, outbox
from eventstore.commands import command_handler
from eventstore.messaging import Received
from eventstore.registry import handles, projection
from eventstore.repository import RecordedEvent
from ordering import contracts as ordering_contracts
from payments import contracts, domain, models, services

# ---------------------------------------------------------------- projections


def _touch(model, recorded: RecordedEvent, **fields) -> None:
    model.objects.filter(id=recorded.stream_id).update(
        **fields, version=recorded.version, updated_at=recorded.occurred_at)


@projection(domain.PaymentAuthorized)
def project_payment_authorized(recorded: RecordedEvent) -> None:
    event = recorded.event
    models.Payment.objects.create(
        id=recorded.stream_id, customer_id=event.customer_id, amount=event.amount, status=domain.AUTHORIZED,
        order_id="", version=recorded.version, created_at=recorded.occurred_at, updated_at=recorded.occurred_at)


@projection(domain.PaymentConfirmed)
def project_payment_confirmed(recorded: RecordedEvent) -> None:
    _touch(models.Payment, recorded, status=domain.CONFIRMED, order_id=recorded.event.order_id)


@projection(domain.PaymentCaptured)
def project_payment_captured(recorded: RecordedEvent) -> None:
    _touch(models.Payment, recorded, status=domain.CAPTURED)


@projection(domain.PaymentReleased)
def project_payment_released(recorded: RecordedEvent) -> None:
    _touch(models.Payment, recorded, status=domain.RELEASED)


@projection(domain.InvoiceCreated)
def project_invoice_created(recorded: RecordedEvent) -> None:
    event = recorded.event
    models.Invoice.objects.create(
        id=recorded.stream_id, order_id=event.order_id, payment_id=event.payment_id, amount=event.amount,
        status=domain.PENDING, refund_required=False, version=recorded.version,
        created_at=recorded.occurred_at, updated_at=recorded.occurred_at)


@projection(domain.InvoicePaid)
def project_invoice_paid(recorded: RecordedEvent) -> None:
    _touch(models.Invoice, recorded, status=domain.PAID)


@projection(domain.InvoiceCanceled)
def project_invoice_canceled(recorded: RecordedEvent) -> None:
    _touch(models.Invoice, recorded, status=domain.CANCELED)


@projection(domain.InvoiceRefundRequired)
def project_invoice_refund_required(recorded: RecordedEvent) -> None:
    _touch(models.Invoice, recorded, refund_required=True)


# ---------------------------------------------------------------- integration events


@handles(domain.InvoicePaid)
def publish_invoice_paid(recorded: RecordedEvent) -> None:
    invoice = recorded.aggregate
    outbox.publish(contracts.InvoicePaid(id=recorded.stream_id, order_id=invoice.order_id, amount=invoice.amount),
                   recorded=recorded)


# ---------------------------------------------------------------- broker messages


@command_handler
def on_confirm_payment(received: Received) -> None:
    """``payments-commands``: Success, or Failure with the NotFound/DomainError text."""
    command: contracts.ConfirmPayment = received.message
    services.confirm_payment(payment_id=command.id, order_id=command.order_id, customer_id=command.customer_id,
                             amount=command.amount)


def on_order_rejected(received: Received) -> None:
    """Release the payment. Like every ``payments-orders`` handler, an event older than one already
    handled for the same order is stale and ignored (``guards.is_newest``): a cancellation handled before
    the order's ``OrderReadied`` then leaves no invoice behind."""
    if not guards.is_newest(received):
        return
    event: ordering_contracts.OrderRejected = received.message
    services.release_payment(payment_id=event.payment_id, order_id=event.id, customer_id=event.customer_id)


def on_order_readied(received: Received) -> None:
    if not guards.is_newest(received):
        return
    event: ordering_contracts.OrderReadied = received.message
    services.create_invoice(order_id=event.id, payment_id=event.payment_id, amount=event.total)


def on_order_canceled(received: Received) -> None:
    if not guards.is_newest(received):
        return
    event: ordering_contracts.OrderCanceled = received.message
    services.cancel_invoice(order_id=event.id)
    services.release_payment(payment_id=event.payment_id, order_id=event.id, customer_id=event.customer_id)
