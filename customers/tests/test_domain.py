"""Customer state machine (product.md §6.3): every transition and error text."""

import pytest

from customers.domain import Customer, CustomerDisabled, CustomerEnabled, CustomerRegistered, CustomerSmsChanged
from eventstore.errors import DomainError


def given_customer(*, enabled=True) -> Customer:
    customer = Customer("c-1")
    customer.apply(CustomerRegistered(customer_name="Ann", sms_number="555-0100"))
    if not enabled:
        customer.apply(CustomerDisabled())
    return customer


def _run(aggregate, command, *args):
    getattr(aggregate, command)(*args)
    return aggregate


CASES = [
    ("register trims and enables", lambda: Customer.register("c-1", " Ann ", " 555-0100 "),
     [CustomerRegistered(customer_name="Ann", sms_number="555-0100")]),
    ("change sms when enabled", lambda: _run(given_customer(), "change_sms_number", "555-0199"),
     [CustomerSmsChanged(sms_number="555-0199")]),
    ("change sms when disabled", lambda: _run(given_customer(enabled=False), "change_sms_number", "555-0199"),
     [CustomerSmsChanged(sms_number="555-0199")]),
    ("unchanged sms is a no-op", lambda: _run(given_customer(), "change_sms_number", " 555-0100 "), []),
    ("enable when disabled", lambda: _run(given_customer(enabled=False), "enable"), [CustomerEnabled()]),
    ("disable when enabled", lambda: _run(given_customer(), "disable"), [CustomerDisabled()]),
    ("authorize when enabled records nothing", lambda: _run(given_customer(), "authorize"), []),
]

ERRORS = [
    ("register blank name", lambda: Customer.register("c", "  ", ""), "the customer name cannot be blank"),
    ("register blank sms", lambda: Customer.register("c", "Ann", " "), "the SMS number cannot be blank"),
    ("change to blank sms", lambda: given_customer().change_sms_number("\t"), "the SMS number cannot be blank"),
    ("enable when enabled", lambda: given_customer().enable(), "the customer is already enabled"),
    ("disable when disabled", lambda: given_customer(enabled=False).disable(), "the customer is already disabled"),
    ("authorize when disabled", lambda: given_customer(enabled=False).authorize(), "customer is not authorized"),
]


@pytest.mark.parametrize("case,command,events", CASES, ids=[c[0] for c in CASES])
def test_given_customer_when_command_then_events(case, command, events):
    assert command().pending == events


@pytest.mark.parametrize("case,command,text", ERRORS, ids=[c[0] for c in ERRORS])
def test_given_customer_when_refused_then_error_text(case, command, text):
    with pytest.raises(DomainError) as refused:
        command()
    assert refused.value.message == text


def test_given_events_when_replayed_then_state_follows():
    customer = given_customer(enabled=False)
    customer.apply(CustomerSmsChanged(sms_number="555-0111"))
    customer.apply(CustomerEnabled())
    assert (customer.name, customer.sms_number, customer.enabled) == ("Ann", "555-0111", True)


@pytest.mark.parametrize("event,payload", [
    (CustomerRegistered(customer_name="Ann", sms_number="1"), {"name": "Ann", "sms_number": "1"}),
    (CustomerSmsChanged(sms_number="2"), {"sms_number": "2"}),
    (CustomerEnabled(), {}),
    (CustomerDisabled(), {}),
])
def test_stored_payloads_match_events_md_and_round_trip(event, payload):
    assert event.to_payload() == payload
    assert type(event).from_payload(payload) == event


def test_names_follow_events_md():
    assert [c.name for c in (CustomerRegistered, CustomerSmsChanged, CustomerEnabled, CustomerDisabled)] == [
        "customers.CustomerRegistered", "customers.CustomerSmsChanged", "customers.CustomerEnabled",
        "customers.CustomerDisabled"]
    assert (Customer.stream_type, Customer.thing, Customer.snapshot_name) == (
        "customers.Customer", "customer", "customers.CustomerV1")
