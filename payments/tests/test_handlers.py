"""Payments services and message handlers on real PostgreSQL: ConfirmPayment (payments-commands),
OrderRejected/OrderReadied/OrderCanceled (payments-orders), paying invoices, projections and outbox."""

from decimal import Decimal

import pytest
from django.db import transaction

from eventstore import messaging, outbox
from eventstore.commands import SagaHeaders, send_command
from eventstore.errors import DomainError, NotFound
from eventstore.models import OutboxMessage, StoredEvent
from eventstore.testing import capture_outbox, deliver_all, envelope_of
from ordering.contracts import OrderCanceled, OrderItem, OrderReadied, OrderRejected
from payments import models, public, services
from payments.contracts import ConfirmPayment

pytestmark = pytest.mark.django_db
D = Decimal
REPLIES = "mallbots.cosec.replies.CreateOrder"


def events_of(stream_type, stream_id):
    return list(StoredEvent.objects.filter(stream_type=stream_type, stream_id=stream_id)
                .order_by("version").values_list("event_name", flat=True))


def authorized(customer_id="c1", amount="50.00") -> str:
    return services.authorize_payment(customer_id=customer_id, amount=D(amount))


def confirmed(order_id="o1", customer_id="c1", amount="50.00", total="40.00") -> str:
    payment_id = authorized(customer_id, amount)
    services.confirm_payment(payment_id=payment_id, order_id=order_id, customer_id=customer_id, amount=D(total))
    return payment_id


def publish(message) -> None:
    with transaction.atomic():
        outbox.publish(message)


def confirm_via_saga(payment_id, order_id="o1", customer_id="c1", amount="40.00"):
    """Send ConfirmPayment as the saga does, deliver it to payments, return the reply envelope."""
    with transaction.atomic():
        send_command(ConfirmPayment(id=payment_id, amount=D(amount), order_id=order_id, customer_id=customer_id),
                     reply_channel=REPLIES, saga=SagaHeaders(saga_id=order_id, saga_name="cosec.CreateOrder",
                                                              step=3, compensating=False))
    with capture_outbox() as captured:
        deliver_all(modules=["payments"])
    [reply] = captured.messages
    return reply


# ---------------------------------------------------------------- authorize and projections


def test_given_authorization_when_saved_then_read_model_has_every_field_and_no_message_is_published():
    with capture_outbox() as captured:
        payment_id = authorized("c1", "21.689999999999998")
    assert captured.messages == []
    row = models.Payment.objects.get(id=payment_id)
    assert (row.customer_id, row.amount, row.status, row.order_id, row.version) == ("c1", D("21.69"), "authorized",
                                                                                    "", 1)
    assert public.find_payment(payment_id) == public.PaymentInfo(id=payment_id, customer_id="c1", amount=D("21.69"),
                                                                 status="authorized", order_id="", version=1)
    assert public.find_payment("nope") is None and public.find_payment("bad id") is None


# ---------------------------------------------------------------- payments-commands


def test_given_authorized_payment_when_saga_confirms_then_success_reply_and_confirmed_for_the_order():
    payment_id = authorized()
    reply = confirm_via_saga(payment_id)
    assert (reply.name, reply.subject, reply.payload) == ("am.Success", REPLIES, {})
    assert reply.metadata["REPLY_OUTCOME"] == "SUCCESS" and reply.metadata["REPLY_SAGA_STEP"] == "3"
    row = models.Payment.objects.get(id=payment_id)
    assert (row.status, row.order_id, row.version) == ("confirmed", "o1", 2)


def test_given_confirmed_payment_when_saga_confirms_same_order_again_then_success_without_new_event():
    payment_id = confirmed()
    reply = confirm_via_saga(payment_id)
    assert reply.name == "am.Success"
    assert events_of("payments.Payment", payment_id) == ["payments.PaymentAuthorized", "payments.PaymentConfirmed"]


@pytest.mark.parametrize("setup,customer_id,amount,text", [
    ("unknown", "c1", "40", "payment not found"),
    ("malformed", "c1", "40", "payment not found"),
    ("authorized", "c2", "99", "the payment belongs to another customer"),
    ("authorized", "c1", "50.01", "the payment does not cover the order total"),
    ("confirmed-other", "c1", "40", "the payment cannot be confirmed"),
    ("released", "c1", "40", "the payment cannot be confirmed"),
])
def test_given_unconfirmable_payment_when_saga_confirms_then_failure_reply_with_text(setup, customer_id, amount, text):
    if setup == "unknown":
        payment_id = "3f1e0c52-0000-4000-8000-000000000000"
    elif setup == "malformed":
        payment_id = "not a valid id"
    elif setup == "confirmed-other":
        payment_id = confirmed(order_id="o-other")
    elif setup == "released":
        payment_id = authorized()
        services.release_payment(payment_id=payment_id, order_id="o0", customer_id="c1")
    else:
        payment_id = authorized()
    before = StoredEvent.objects.count()
    reply = confirm_via_saga(payment_id, order_id="o1", customer_id=customer_id, amount=amount)
    assert (reply.name, reply.payload) == ("am.Failure", {"message": text})
    assert reply.metadata["REPLY_OUTCOME"] == "FAILURE"
    assert StoredEvent.objects.count() == before


def test_given_confirm_command_when_redelivered_then_inbox_drops_it_and_only_one_reply_exists():
    payment_id = authorized()
    with transaction.atomic():
        send_command(ConfirmPayment(id=payment_id, amount=D("40"), order_id="o1", customer_id="c1"),
                     reply_channel=REPLIES)
    envelope = envelope_of(OutboxMessage.objects.get(name="paymentsapi.ConfirmPayment"))
    durable = messaging.get_durable("payments-commands")
    with capture_outbox() as captured:
        assert messaging.handle(durable, envelope) is messaging.Outcome.HANDLED
        assert messaging.handle(durable, envelope, delivery=2) is messaging.Outcome.DUPLICATE
    assert captured.names == ["am.Success"]
    assert models.Payment.objects.get(id=payment_id).version == 2


def test_confirm_payment_contract_is_on_the_payments_command_subject():
    with transaction.atomic():
        send_command(ConfirmPayment(id="p", amount=D("1.5"), order_id="o", customer_id="c"), reply_channel=REPLIES)
    row = OutboxMessage.objects.get(name="paymentsapi.ConfirmPayment")
    assert row.subject == "mallbots.payments.commands"
    assert row.payload == {"id": "p", "amount": D("1.5"), "order_id": "o", "customer_id": "c"}


# ---------------------------------------------------------------- payments-orders


@pytest.mark.parametrize("setup,event_customer,released", [
    ("authorized", "c1", True),
    ("authorized", "c2", False),
    ("confirmed-this", "c1", True),
    ("confirmed-this", "c2", False),
    ("confirmed-other", "c1", False),
])
def test_given_payment_when_order_rejected_then_released_only_if_authorized_or_confirmed_for_it(
        setup, event_customer, released):
    payment_id = confirmed(order_id="o-other") if setup == "confirmed-other" else (
        confirmed(order_id="o1") if setup == "confirmed-this" else authorized())
    status_before = models.Payment.objects.get(id=payment_id).status
    publish(OrderRejected(id="o1", customer_id=event_customer, payment_id=payment_id, reason="rejected"))
    assert deliver_all(modules=["payments"]) == 1
    assert models.Payment.objects.get(id=payment_id).status == ("released" if released else status_before)


def test_given_unknown_payment_when_order_rejected_then_ignored():
    publish(OrderRejected(id="o1", customer_id="c1", payment_id="no-such-payment", reason="x"))
    publish(OrderRejected(id="o1", customer_id="c1", payment_id="", reason="x"))
    assert deliver_all(modules=["payments"]) == 2
    assert not StoredEvent.objects.filter(stream_type="payments.Payment").exists()


def readied(order_id="o1", payment_id="p1", total="30.00"):
    return OrderReadied(id=order_id, customer_id="c1", payment_id=payment_id, total=D(total),
                        items=(OrderItem(product_id="pr1", store_id="s1", price=D("10"), quantity=3),))


def test_given_order_readied_when_delivered_then_pending_invoice_with_order_total():
    payment_id = confirmed()
    with capture_outbox() as captured:
        publish(readied(payment_id=payment_id, total="30.00"))
        deliver_all(modules=["payments"])
    assert captured.names == ["ordersapi.OrderReadied"]
    row = models.Invoice.objects.get(id="o1")
    assert (row.order_id, row.payment_id, row.amount, row.status, row.refund_required, row.version) == (
        "o1", payment_id, D("30.00"), "pending", False, 1)
    assert public.find_invoice("o1").status == "pending" and not public.invoice_is_paid("o1")


def test_given_order_readied_when_redelivered_or_sent_again_then_no_second_invoice_event():
    publish(readied())
    envelope = envelope_of(OutboxMessage.objects.get(name="ordersapi.OrderReadied"))
    durable = messaging.get_durable("payments-orders")
    assert messaging.handle(durable, envelope) is messaging.Outcome.HANDLED
    assert messaging.handle(durable, envelope, delivery=2) is messaging.Outcome.DUPLICATE
    publish(readied(total="99.00"))
    deliver_all(modules=["payments"])
    assert events_of("payments.Invoice", "o1") == ["payments.InvoiceCreated"]
    assert models.Invoice.objects.get(id="o1").amount == D("30.00")


def test_given_pending_invoice_when_order_canceled_then_invoice_canceled_and_payment_released():
    payment_id = confirmed()
    services.create_invoice(order_id="o1", payment_id=payment_id, amount=D("30"))
    publish(OrderCanceled(id="o1", customer_id="c1", payment_id=payment_id, reason="staff"))
    deliver_all(modules=["payments"])
    assert models.Invoice.objects.get(id="o1").status == "canceled"
    assert models.Payment.objects.get(id=payment_id).status == "released"


def test_given_paid_invoice_when_order_canceled_then_refund_required_and_payment_stays_captured():
    payment_id = confirmed()
    services.create_invoice(order_id="o1", payment_id=payment_id, amount=D("30"))
    services.pay_invoice(invoice_id="o1")
    publish(OrderCanceled(id="o1", customer_id="c1", payment_id=payment_id, reason="staff"))
    publish(OrderCanceled(id="o1", customer_id="c1", payment_id=payment_id, reason="staff"))
    deliver_all(modules=["payments"])
    row = models.Invoice.objects.get(id="o1")
    assert (row.status, row.refund_required) == ("paid", True)
    assert models.Payment.objects.get(id=payment_id).status == "captured"
    assert events_of("payments.Invoice", "o1") == ["payments.InvoiceCreated", "payments.InvoicePaid",
                                                   "payments.InvoiceRefundRequired"]


def test_given_no_invoice_when_order_canceled_then_only_the_payment_is_released():
    payment_id = confirmed()
    publish(OrderCanceled(id="o1", customer_id="c1", payment_id=payment_id, reason="customer"))
    deliver_all(modules=["payments"])
    assert not models.Invoice.objects.exists()
    assert models.Payment.objects.get(id=payment_id).status == "released"


def test_payments_orders_skips_other_order_events():
    durable = messaging.get_durable("payments-orders")
    assert set(durable.handlers) == {"ordersapi.OrderRejected", "ordersapi.OrderReadied", "ordersapi.OrderCanceled"}
    assert durable.subject == "mallbots.ordering.events.Order"
    assert messaging.get_durable("payments-commands").subject == "mallbots.payments.commands"


# ---------------------------------------------------------------- paying an invoice


def test_given_pending_invoice_when_paid_then_payment_captured_and_exactly_one_invoice_paid_published():
    payment_id = confirmed()
    services.create_invoice(order_id="o1", payment_id=payment_id, amount=D("30.00"))
    with capture_outbox() as captured:
        services.pay_invoice(invoice_id="o1")
    [message] = captured.messages
    assert (message.name, message.subject, message.payload) == (
        "paymentsapi.InvoicePaid", "mallbots.payments.events.Invoice", {"id": "o1", "order_id": "o1", "amount": 30})
    assert (message.metadata["aggregate_type"], message.metadata["aggregate_id"],
            message.metadata["aggregate_version"]) == ("payments.Invoice", "o1", 2)
    assert models.Invoice.objects.get(id="o1").status == "paid" and public.invoice_is_paid("o1")
    payment = models.Payment.objects.get(id=payment_id)
    assert (payment.status, payment.version) == ("captured", 3)
    assert StoredEvent.objects.get(stream_id=payment_id, version=3).payload == {"invoice_id": "o1", "amount": 30}


@pytest.mark.parametrize("setup,error", [
    ("missing", NotFound("invoice")),
    ("paid", DomainError("invoice cannot be paid for")),
    ("canceled", DomainError("invoice cannot be paid for")),
    ("payment-authorized-only", DomainError("the payment cannot be captured")),
    ("payment-unknown", DomainError("the payment cannot be captured")),
    ("payment-released", DomainError("the payment cannot be captured")),
])
def test_given_unpayable_invoice_when_paid_then_refused_and_nothing_saved(setup, error):
    payment_id = authorized() if setup == "payment-authorized-only" else confirmed()
    if setup == "payment-unknown":
        payment_id = "unknown-payment"
    if setup != "missing":
        services.create_invoice(order_id="o1", payment_id=payment_id, amount=D("30"))
    if setup == "paid":
        services.pay_invoice(invoice_id="o1")
    if setup == "canceled":
        services.cancel_invoice(order_id="o1")
    if setup == "payment-released":
        services.release_payment(payment_id=payment_id, order_id="o1", customer_id="c1")
    before = StoredEvent.objects.count()
    with pytest.raises(type(error)) as refused:
        services.pay_invoice(invoice_id="o1")
    assert refused.value.message == error.message
    assert StoredEvent.objects.count() == before


# ---------------------------------------------------------------- order events out of order


def order_version(version: int) -> dict:
    return {"aggregate_type": "ordering.Order", "aggregate_id": "o1", "aggregate_version": version}


def publish_at(message, version: int) -> None:
    with transaction.atomic():
        outbox.publish(message, headers=order_version(version))


def test_given_order_canceled_handled_before_order_readied_then_no_invoice_for_the_cancelled_order():
    payment_id = confirmed()
    publish_at(OrderCanceled(id="o1", customer_id="c1", payment_id=payment_id, reason="customer"), 6)
    publish_at(readied(payment_id=payment_id), 5)
    deliver_all(modules=["payments"])
    assert not models.Invoice.objects.exists()
    assert events_of("payments.Invoice", "o1") == []
    assert models.Payment.objects.get(id=payment_id).status == "released"


def test_given_order_readied_then_canceled_in_order_then_the_invoice_is_created_and_canceled():
    payment_id = confirmed()
    publish_at(readied(payment_id=payment_id), 5)
    publish_at(OrderCanceled(id="o1", customer_id="c1", payment_id=payment_id, reason="customer"), 6)
    deliver_all(modules=["payments"])
    assert events_of("payments.Invoice", "o1") == ["payments.InvoiceCreated", "payments.InvoiceCanceled"]
    assert models.Payment.objects.get(id=payment_id).status == "released"

