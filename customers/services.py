"""Customer use cases (product.md F3). Each runs in one transaction.

Every function loads the customer (``NotFound`` → 404 ``customer not found``), calls the domain
(``DomainError`` → 400) and saves it; the projection and the outbox row are written in the same
transaction by ``customers.handlers``. A concurrent writer makes the save raise ``ConcurrencyError``.
"""

from __future__ import annotations

from customers.domain import Customer
from eventstore.ids import new_id
from eventstore.repository import Repository
from eventstore.transactions import use_case

customers = Repository(Customer)


def register_customer(*, name: str, sms_number: str) -> str:
    """Register an enabled customer; returns the new id. Emits CustomerRegistered."""
    with use_case():
        customer = Customer.register(new_id(), name, sms_number)
        customers.create(customer)
    return customer.id


def change_sms_number(*, customer_id: str, sms_number: str) -> None:
    """Emits CustomerSmsChanged unless the number is unchanged."""
    with use_case():
        customer = customers.load(customer_id)
        customer.change_sms_number(sms_number)
        customers.save(customer)


def enable_customer(*, customer_id: str) -> None:
    """Emits CustomerEnabled."""
    with use_case():
        customer = customers.load(customer_id)
        customer.enable()
        customers.save(customer)


def disable_customer(*, customer_id: str) -> None:
    """Emits CustomerDisabled; the create-order saga then rejects the customer's orders."""
    with use_case():
        customer = customers.load(customer_id)
        customer.disable()
        customers.save(customer)


def authorize_customer(*, customer_id: str) -> None:
    """The create-order saga's customer check; records nothing.

    Raises ``NotFound`` (``customer not found``) for an unknown or malformed id and ``DomainError``
    (``customer is not authorized``) for a disabled customer.
    """
    with use_case():
        customers.load(customer_id).authorize()
