"""The saga's AuthorizeCustomer command (events.md §5, product.md §6.3) through the real inbox code."""

import uuid

import pytest
from django.db import transaction

from customers import services
from customers.contracts import AuthorizeCustomer
from eventstore.commands import SagaHeaders, send_command
from eventstore.messaging import Outcome, get_durable, handle
from eventstore.models import InboxMessage, OutboxMessage, StoredEvent
from eventstore.testing import envelope_of

pytestmark = pytest.mark.django_db

REPLIES = "mallbots.cosec.replies.CreateOrder"
SAGA = SagaHeaders(saga_id="order-1", saga_name="cosec.CreateOrder", step=1, compensating=False)


def command_envelope(customer_id: str, *, reply_channel: str | None = REPLIES):
    with transaction.atomic():
        message_id = send_command(AuthorizeCustomer(id=customer_id), reply_channel=reply_channel, saga=SAGA)
    return envelope_of(OutboxMessage.objects.get(message_id=message_id))


def deliver(envelope) -> tuple[Outcome, list[tuple]]:
    start = OutboxMessage.objects.order_by("-position").values_list("position", flat=True).first()
    outcome = handle(get_durable("customers-commands"), envelope)
    rows = OutboxMessage.objects.filter(position__gt=start).order_by("position")
    return outcome, [(r.name, r.subject, r.payload, r.metadata.get("REPLY_OUTCOME"), r.metadata.get("REPLY_SAGA_ID"),
                      r.metadata.get("REPLY_SAGA_STEP")) for r in rows]


def test_durable_is_declared_on_the_customers_command_subject():
    durable = get_durable("customers-commands")
    assert (durable.module, durable.subject, list(durable.handlers)) == (
        "customers", "mallbots.customers.commands", ["customersapi.AuthorizeCustomer"])


def test_given_enabled_customer_then_success_and_no_event():
    customer_id = services.register_customer(name="Ann", sms_number="1")
    events = StoredEvent.objects.count()
    assert deliver(command_envelope(customer_id)) == (Outcome.HANDLED, [
        ("am.Success", REPLIES, {}, "SUCCESS", "order-1", "1")])
    assert StoredEvent.objects.count() == events


@pytest.mark.parametrize("customer", ["unknown", "malformed", "disabled"])
def test_given_unknown_or_disabled_customer_then_failure_with_the_text(customer):
    customer_id = services.register_customer(name="Ann", sms_number="1")
    if customer == "disabled":
        services.disable_customer(customer_id=customer_id)
    target = {"unknown": str(uuid.uuid4()), "malformed": "", "disabled": customer_id}[customer]
    text = "customer is not authorized" if customer == "disabled" else "customer not found"
    assert deliver(command_envelope(target)) == (Outcome.HANDLED, [
        ("am.Failure", REPLIES, {"message": text}, "FAILURE", "order-1", "1")])


def test_given_redelivered_command_then_one_reply_only():
    customer_id = services.register_customer(name="Ann", sms_number="1")
    envelope = command_envelope(customer_id)
    assert deliver(envelope)[0] is Outcome.HANDLED
    assert deliver(envelope) == (Outcome.DUPLICATE, [])
    assert InboxMessage.objects.filter(consumer="customers-commands", message_id=envelope.id).count() == 1


def test_given_command_without_reply_channel_then_it_runs_and_nothing_is_sent():
    customer_id = services.register_customer(name="Ann", sms_number="1")
    assert deliver(command_envelope(customer_id, reply_channel=None)) == (Outcome.HANDLED, [])
