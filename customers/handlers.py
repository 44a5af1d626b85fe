"""Handlers of customers: in-transaction domain-event handlers and the saga's command handler.

``project_*`` functions are the only writers of ``customers.models``; ``publish_*`` functions write
the integration event of events.md §9 to the outbox. Both run in the transaction that saved the event.
``on_authorize_customer`` handles ``customersapi.AuthorizeCustomer`` from the create-order saga.
"""

from __future__ import annotations

from customers import contracts, domain, models, services
from eventstore import outbox
from eventstore.commands import command_handler
from eventstore.messaging import Received
from eventstore.models import StoredEvent
from eventstore.registry import handles, projection
from eventstore.repository import RecordedEvent


@projection(domain.CustomerRegistered)
def project_customer_registered(recorded: RecordedEvent) -> None:
    event = recorded.event
    position = StoredEvent.objects.values_list("global_position", flat=True).get(event_id=recorded.event_id)
    models.Customer.objects.create(id=recorded.stream_id, name=event.customer_name, sms_number=event.sms_number,
                                   enabled=True, version=recorded.version, created_position=position)


@projection(domain.CustomerSmsChanged)
def project_customer_sms_changed(recorded: RecordedEvent) -> None:
    models.Customer.objects.filter(id=recorded.stream_id).update(sms_number=recorded.event.sms_number,
                                                                 version=recorded.version)


@projection(domain.CustomerEnabled, domain.CustomerDisabled)
def project_customer_enabled(recorded: RecordedEvent) -> None:
    enabled = isinstance(recorded.event, domain.CustomerEnabled)
    models.Customer.objects.filter(id=recorded.stream_id).update(enabled=enabled, version=recorded.version)


@handles(domain.CustomerRegistered)
def publish_customer_registered(recorded: RecordedEvent) -> None:
    event = recorded.event
    outbox.publish(contracts.CustomerRegistered(id=recorded.stream_id, name=event.customer_name,
                                                sms_number=event.sms_number), recorded=recorded)


@handles(domain.CustomerSmsChanged)
def publish_customer_sms_changed(recorded: RecordedEvent) -> None:
    outbox.publish(contracts.CustomerSmsChanged(id=recorded.stream_id, sms_number=recorded.event.sms_number),
                   recorded=recorded)


@handles(domain.CustomerEnabled)
def publish_customer_enabled(recorded: RecordedEvent) -> None:
    outbox.publish(contracts.CustomerEnabled(id=recorded.stream_id), recorded=recorded)


@handles(domain.CustomerDisabled)
def publish_customer_disabled(recorded: RecordedEvent) -> None:
    outbox.publish(contracts.CustomerDisabled(id=recorded.stream_id), recorded=recorded)


@command_handler
def on_authorize_customer(received: Received) -> None:
    """``customersapi.AuthorizeCustomer`` (durable ``customers-commands``): Success, or Failure with the text."""
    services.authorize_customer(customer_id=received.message.id)
