"""Contracts owned here (events.md §4.4, §4.5, §4.8, §5): names, subjects, exact payload keys, and a
round trip through the outbox and the envelope with money kept as Decimal."""

from decimal import Decimal

import pytest
from django.db import transaction

from baskets import contracts as baskets_contracts
from eventstore import outbox, registry, schema
from eventstore.models import OutboxMessage
from eventstore.testing import envelope_of
from ordering import contracts as ordering
from payments import contracts as payments

pytestmark = pytest.mark.django_db
ORDER = "mallbots.ordering.events.Order"
ITEM = ordering.OrderItem(product_id="p1", store_id="s1", price=Decimal("9.99"), quantity=2)

CASES = [
    (ordering.OrderCreated(id="o", customer_id="c", payment_id="pay", items=(ITEM,)), "ordersapi.OrderCreated", ORDER,
     {"id": "o", "customer_id": "c", "payment_id": "pay", "shopping_id": "",
      "items": [{"product_id": "p1", "store_id": "s1", "price": Decimal("9.99"), "quantity": 2}]}),
    (ordering.OrderRejected(id="o", customer_id="c", payment_id="pay", reason="r"), "ordersapi.OrderRejected", ORDER,
     {"id": "o", "customer_id": "c", "payment_id": "pay", "reason": "r"}),
    (ordering.OrderApproved(id="o", customer_id="c", payment_id="pay", shopping_id="sl"), "ordersapi.OrderApproved",
     ORDER, {"id": "o", "customer_id": "c", "payment_id": "pay", "shopping_id": "sl"}),
    (ordering.OrderStarted(id="o", customer_id="c", payment_id="pay", shopping_id="sl", bot_id="b"),
     "ordersapi.OrderStarted", ORDER,
     {"id": "o", "customer_id": "c", "payment_id": "pay", "shopping_id": "sl", "bot_id": "b"}),
    (ordering.OrderReadied(id="o", customer_id="c", payment_id="pay", total=Decimal("19.98"), items=(ITEM,)),
     "ordersapi.OrderReadied", ORDER,
     {"id": "o", "customer_id": "c", "payment_id": "pay", "total": Decimal("19.98"),
      "items": [{"product_id": "p1", "store_id": "s1", "price": Decimal("9.99"), "quantity": 2}]}),
    (ordering.OrderCanceled(id="o", customer_id="c", payment_id="pay", reason="staff"), "ordersapi.OrderCanceled",
     ORDER, {"id": "o", "customer_id": "c", "payment_id": "pay", "reason": "staff"}),
    (ordering.OrderCompleted(id="o", customer_id="c", invoice_id="o"), "ordersapi.OrderCompleted", ORDER,
     {"id": "o", "customer_id": "c", "invoice_id": "o"}),
    (ordering.ApproveOrder(id="o", shopping_id="sl"), "ordersapi.ApproveOrder", "mallbots.ordering.commands",
     {"id": "o", "shopping_id": "sl"}),
    (ordering.RejectOrder(id="o", reason="r"), "ordersapi.RejectOrder", "mallbots.ordering.commands",
     {"id": "o", "reason": "r"}),
    (payments.InvoicePaid(id="o", order_id="o", amount=Decimal("10.5")), "paymentsapi.InvoicePaid",
     "mallbots.payments.events.Invoice", {"id": "o", "order_id": "o", "amount": Decimal("10.50")}),
    (payments.ConfirmPayment(id="pay", amount=Decimal("3"), order_id="o", customer_id="c"),
     "paymentsapi.ConfirmPayment", "mallbots.payments.commands",
     {"id": "pay", "amount": Decimal("3"), "order_id": "o", "customer_id": "c"}),
    (baskets_contracts.BasketStarted(id="b", customer_id="c"), "basketsapi.BasketStarted",
     "mallbots.baskets.events.Basket", {"id": "b", "customer_id": "c"}),
    (baskets_contracts.BasketCanceled(id="b"), "basketsapi.BasketCanceled", "mallbots.baskets.events.Basket",
     {"id": "b"}),
    (baskets_contracts.BasketCheckedOut(id="b", customer_id="c", payment_id="pay", items=(
        baskets_contracts.BasketItem(store_id="s", product_id="p", store_name="S", product_name="P",
                                     price=Decimal("0.1"), quantity=1),)),
     "basketsapi.BasketCheckedOut", "mallbots.baskets.events.Basket",
     {"id": "b", "customer_id": "c", "payment_id": "pay", "items": [
         {"store_id": "s", "product_id": "p", "store_name": "S", "product_name": "P", "price": Decimal("0.1"),
          "quantity": 1}]}),
]


@pytest.mark.parametrize("message,name,subject,payload", CASES, ids=[case[1] for case in CASES])
def test_contract_is_registered_and_round_trips_through_the_outbox(message, name, subject, payload):
    assert registry.message_type(name).cls is type(message) and registry.message_type(name).subject == subject
    with transaction.atomic():
        outbox.publish(message)
    row = OutboxMessage.objects.get(name=name)
    assert (row.subject, row.payload) == (subject, payload)
    assert envelope_of(row).message() == message


def test_missing_payload_keys_take_zero_values():
    readied = registry.message_type("ordersapi.OrderReadied").cls
    assert schema.from_dict(readied, {"id": "o"}) == ordering.OrderReadied(id="o", customer_id="", payment_id="",
                                                                            total=Decimal("0.00"), items=())
