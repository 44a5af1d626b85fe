"""Redelivering every message of the whole flow into fresh inboxes leaves the same final state."""

from decimal import Decimal

import pytest

from baskets import services as baskets
from customers import services as customers
from depot import public as depot_public
from depot import services as depot
from depot.tests.conftest import given_bot
from eventstore import messaging
from eventstore.models import InboxMessage, OutboxMessage, SagaInstance, StoredEvent
from eventstore.testing import deliver_all, envelope_of
from ordering import models
from payments import public as payments_public
from payments import services as payments
from stores import services as stores

pytestmark = pytest.mark.django_db


def final_state():
    return {
        "events": list(StoredEvent.objects.order_by("global_position").values_list("stream_type", "stream_id",
                                                                                   "version", "event_name")),
        "orders": list(models.Order.objects.values_list("id", "status", "total", "version")),
        "sagas": list(SagaInstance.objects.values_list("saga_id", "status", "step", "version")),
    }


def test_every_message_of_the_flow_redelivered_into_fresh_inboxes_changes_nothing():
    store_id = stores.create_store(name="Books", location="L1")
    product_id = stores.add_product(store_id=store_id, name="Novel", description="", sku="", price=Decimal("9.99"))
    customer_id = customers.register_customer(name="Ann", sms_number="555")
    payment_id = payments.authorize_payment(customer_id=customer_id, amount=Decimal("200"))
    deliver_all()
    approved = baskets.start_basket(customer_id=customer_id)
    baskets.add_item(basket_id=approved, product_id=product_id, quantity=5)
    baskets.checkout_basket(basket_id=approved, payment_id=payment_id)
    rejected = baskets.start_basket(customer_id=customer_id)
    baskets.add_item(basket_id=rejected, product_id=product_id, quantity=1)
    baskets.checkout_basket(basket_id=rejected, payment_id="no-such-payment")
    deliver_all()
    list_id = depot_public.shopping_list_for_order(approved).id
    depot.assign_shopping_list(list_id=list_id, bot_id=given_bot("bot-1"))
    depot.start_shopping(list_id=list_id)
    depot.pick_item(list_id=list_id, product_id=product_id, quantity=4)
    depot.complete_shopping_list(list_id=list_id)
    deliver_all()
    payments.pay_invoice(invoice_id=approved)
    deliver_all()
    assert models.Order.objects.get(id=approved).status == "completed"
    assert models.Order.objects.get(id=rejected).status == "rejected"
    before = final_state()
    payment_before = payments_public.find_payment(payment_id)

    InboxMessage.objects.all().delete()
    for row in OutboxMessage.objects.order_by("position"):
        for durable in messaging.durables():
            if durable.subject == row.subject:
                messaging.handle(durable, envelope_of(row))
    deliver_all()

    assert final_state() == before
    assert payments_public.find_payment(payment_id) == payment_before
