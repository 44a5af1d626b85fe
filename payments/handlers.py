"""Payments handlers.

In-transaction (``@handles``): the Payment and Invoice read-model projections, and the translation of
InvoicePaid into ``paymentsapi.InvoicePaid``. Broker (durables declared in ``PaymentsConfig.ready``):
``payments-commands`` (ConfirmPayment) and ``payments-orders`` (OrderRejected, OrderReadied, OrderCanceled).
"""

from __future__ import annotations

from eventstore import guards, outbox, store
from eventstore.commands import command_handler
from eventstore.messaging import Received
from eventstore.registry import handles, projection
from eventstore.repository import RecordedEvent
from ordering import contracts as ordering_contracts
from payments import contracts, domain, models, services

# ---------------------------------------------------------------- projections


# The projections write with deferred statements (``store.write``, ADR 27): nothing reads a result.
_PAYMENTS, _INVOICES = models.Payment._meta.db_table, models.Invoice._meta.db_table
_INSERT_PAYMENT = (f"INSERT INTO {_PAYMENTS} (id, customer_id, amount, status, order_id, version, created_at,"
                   " updated_at) VALUES (%s, %s, %s, %s, '', %s, %s, %s)")
_INSERT_INVOICE = (f"INSERT INTO {_INVOICES} (id, order_id, payment_id, amount, status, refund_required, version,"
                   " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, false, %s, %s, %s)")


def _touch(model, recorded: RecordedEvent, **fields) -> None:
    columns = [*fields, "version", "updated_at"]
    store.write(f"UPDATE {model._meta.db_table} SET " + ", ".join(f"{column} = %s" for column in columns)
                + " WHERE id = %s", [*fields.values(), recorded.version, recorded.occurred_at, recorded.stream_id])


@projection(domain.PaymentAuthorized)
def project_payment_authorized(recorded: RecordedEvent) -> None:
    event = recorded.event
    store.write(_INSERT_PAYMENT, [recorded.stream_id, event.customer_id, event.amount, domain.AUTHORIZED,
                                  recorded.version, recorded.occurred_at, recorded.occurred_at])


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
    store.write(_INSERT_INVOICE, [recorded.stream_id, event.order_id, event.payment_id, event.amount, domain.PENDING,
                                  recorded.version, recorded.occurred_at, recorded.occurred_at])


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
