"""Integration events published by customers (events.md §4.3); payload keys are snake_case."""

from __future__ import annotations

from dataclasses import dataclass

from eventstore.registry import message

CUSTOMER_SUBJECT = "mallbots.customers.events.Customer"
COMMANDS_SUBJECT = "mallbots.customers.commands"


@message("customersapi.CustomerRegistered", CUSTOMER_SUBJECT)
@dataclass(frozen=True)
class CustomerRegistered:
    id: str
    name: str
    sms_number: str


@message("customersapi.CustomerSmsChanged", CUSTOMER_SUBJECT)
@dataclass(frozen=True)
class CustomerSmsChanged:
    id: str
    sms_number: str


@message("customersapi.CustomerEnabled", CUSTOMER_SUBJECT)
@dataclass(frozen=True)
class CustomerEnabled:
    id: str


@message("customersapi.CustomerDisabled", CUSTOMER_SUBJECT)
@dataclass(frozen=True)
class CustomerDisabled:
    id: str


@message("customersapi.AuthorizeCustomer", COMMANDS_SUBJECT)
@dataclass(frozen=True)
class AuthorizeCustomer:
    """Saga step 1: the customer must exist and be enabled. Replies ``am.Success`` or ``am.Failure``."""

    id: str
