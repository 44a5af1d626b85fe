"""Customer projection, outbox translation (events.md §4.3, §9) and the query facade."""

import uuid

import pytest

from customers import models, public, services
from customers.public import CustomerInfo
from eventstore.errors import DomainError, NotFound
from eventstore.models import OutboxMessage, StoredEvent

pytestmark = pytest.mark.django_db

SUBJECT = "mallbots.customers.events.Customer"


def outbox_rows() -> list[tuple]:
    return [(r.name, r.subject, r.payload, r.metadata["aggregate_type"], r.metadata["aggregate_id"],
             r.metadata["aggregate_version"]) for r in OutboxMessage.objects.order_by("position")]


def test_every_customer_change_publishes_its_integration_event():
    customer_id = services.register_customer(name=" Ann ", sms_number=" 555 ")
    services.change_sms_number(customer_id=customer_id, sms_number="555")
    services.change_sms_number(customer_id=customer_id, sms_number="556")
    services.disable_customer(customer_id=customer_id)
    services.enable_customer(customer_id=customer_id)
    kind = "customers.Customer"
    assert outbox_rows() == [
        ("customersapi.CustomerRegistered", SUBJECT, {"id": customer_id, "name": "Ann", "sms_number": "555"},
         kind, customer_id, 1),
        ("customersapi.CustomerSmsChanged", SUBJECT, {"id": customer_id, "sms_number": "556"}, kind, customer_id, 2),
        ("customersapi.CustomerDisabled", SUBJECT, {"id": customer_id}, kind, customer_id, 3),
        ("customersapi.CustomerEnabled", SUBJECT, {"id": customer_id}, kind, customer_id, 4),
    ]
    assert list(StoredEvent.objects.filter(stream_id=customer_id).order_by("version")
                .values_list("event_name", "payload")) == [
        ("customers.CustomerRegistered", {"name": "Ann", "sms_number": "555"}),
        ("customers.CustomerSmsChanged", {"sms_number": "556"}),
        ("customers.CustomerDisabled", {}),
        ("customers.CustomerEnabled", {}),
    ]


def test_refused_commands_write_nothing():
    customer_id = services.register_customer(name="Ann", sms_number="1")
    before = (StoredEvent.objects.count(), OutboxMessage.objects.count())
    with pytest.raises(DomainError):
        services.enable_customer(customer_id=customer_id)
    with pytest.raises(DomainError):
        services.change_sms_number(customer_id=customer_id, sms_number=" ")
    with pytest.raises(NotFound):
        services.disable_customer(customer_id=str(uuid.uuid4()))
    assert (StoredEvent.objects.count(), OutboxMessage.objects.count()) == before


def test_projection_and_facade_follow_the_stream():
    customer_id = services.register_customer(name="Ann", sms_number="1")
    services.change_sms_number(customer_id=customer_id, sms_number="2")
    services.disable_customer(customer_id=customer_id)
    row = models.Customer.objects.get(pk=customer_id)
    assert (row.name, row.sms_number, row.enabled, row.version) == ("Ann", "2", False, 3)
    assert public.find_customer(customer_id) == CustomerInfo(id=customer_id, name="Ann", sms_number="2",
                                                             enabled=False, version=3)
    for missing in (str(uuid.uuid4()), "", "x" * 65, "a b"):
        assert public.find_customer(missing) is None
