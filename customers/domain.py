"""Customer identity (product.md §6.3): the Customer aggregate.

Text fields are stored trimmed; "blank" means empty after trimming. Commands that would change
nothing (``=`` in the state table) record no event.
"""

from __future__ import annotations

from dataclasses import dataclass


from eventstore.domain import Aggregate, DomainEvent
from eventstore.errors import DomainError
from eventstore.registry import domain_event

CUSTOMER_NAME_BLANK = "the customer name cannot be blank"
SMS_NUMBER_BLANK = "the SMS number cannot be blank"
SMS_NUMBER_MAX_LENGTH = 32  # the longest SMS number the API and the admin accept (ADR 20)
ALREADY_ENABLED = "the customer is already enabled"
ALREADY_DISABLED = "the customer is already disabled"
NOT_AUTHORIZED = "customer is not authorized"


@domain_event
@dataclass(frozen=True)
class CustomerRegistered(DomainEvent):
    name = "customers.CustomerRegistered"
    payload_keys = {"customer_name": "name"}
    customer_name: str
    sms_number: str


@domain_event
@dataclass(frozen=True)
class CustomerSmsChanged(DomainEvent):
    name = "customers.CustomerSmsChanged"
    sms_number: str


@domain_event
@dataclass(frozen=True)
class CustomerEnabled(DomainEvent):
    name = "customers.CustomerEnabled"


@domain_event
@dataclass(frozen=True)
class CustomerDisabled(DomainEvent):
    name = "customers.CustomerDisabled"


class Customer(Aggregate):
    """A registered mall visitor; enabled from registration."""

    stream_type = "customers.Customer"
    thing = "customer"
    snapshot_name = "customers.CustomerV1"

    name: str
    sms_number: str
    enabled: bool

    @classmethod
    def register(cls, id: str, name: str, sms_number: str) -> "Customer":
        """Checks E1 (name blank) then E2 (SMS number blank); records CustomerRegistered (enabled)."""
        name, sms_number = name.strip(), sms_number.strip()
        if not name:
            raise DomainError(CUSTOMER_NAME_BLANK)
        if not sms_number:
            raise DomainError(SMS_NUMBER_BLANK)
        customer = cls(id)
        customer.raise_event(CustomerRegistered(customer_name=name, sms_number=sms_number))
        return customer

    def change_sms_number(self, sms_number: str) -> None:
        """Checks E2; an unchanged number records nothing. Allowed enabled or disabled."""
        sms_number = sms_number.strip()
        if not sms_number:
            raise DomainError(SMS_NUMBER_BLANK)
        if sms_number != self.sms_number:
            self.raise_event(CustomerSmsChanged(sms_number=sms_number))

    def enable(self) -> None:
        if self.enabled:
            raise DomainError(ALREADY_ENABLED)
        self.raise_event(CustomerEnabled())

    def disable(self) -> None:
        if not self.enabled:
            raise DomainError(ALREADY_DISABLED)
        self.raise_event(CustomerDisabled())

    def authorize(self) -> None:
        """The create-order saga's check: a disabled customer is E5. Records nothing."""
        if not self.enabled:
            raise DomainError(NOT_AUTHORIZED)

    def apply_CustomerRegistered(self, event: CustomerRegistered) -> None:
        self.name = event.customer_name
        self.sms_number = event.sms_number
        self.enabled = True

    def apply_CustomerSmsChanged(self, event: CustomerSmsChanged) -> None:
        self.sms_number = event.sms_number

    def apply_CustomerEnabled(self, event: CustomerEnabled) -> None:
        self.enabled = True

    def apply_CustomerDisabled(self, event: CustomerDisabled) -> None:
        self.enabled = False
