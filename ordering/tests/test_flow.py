"""The create-order flow in-process (deliver_all): every outcome of events.md §6.3."""

import uuid
from importlib import import_module
from decimal import Decimal

import pytest
from django.db import connection

from baskets import services as baskets
from customers import services as customers
from depot import public as depot_public
from depot import services as depot
from depot.tests.conftest import given_bot
from eventstore import messaging, sagas
from eventstore.models import OutboxMessage, SagaInstance, StoredEvent
from eventstore.testing import capture_outbox, deliver_all, envelope_of
from ordering import models, services
from ordering.saga import NAME, ORDER_CANCELLED
from payments import public as payments_public
from payments import services as payments
from stores import services as stores

pytestmark = pytest.mark.django_db


def given_catalog(participating=True):
    store_id = stores.create_store(name="Books", location="Level 1")
    product_id = stores.add_product(store_id=store_id, name="Novel", description="", sku="N1", price=Decimal("9.99"))
    deliver_all()
    return store_id, product_id


def given_checkout(*, amount="200.00", customer_id=None, payment_customer=None, quantity=5, before_checkout=None):
    store_id, product_id = given_catalog()
    customer_id = customer_id or customers.register_customer(name="Ann", sms_number="555-0100")
    payment_id = payments.authorize_payment(customer_id=payment_customer or customer_id, amount=Decimal(amount))
    basket_id = baskets.start_basket(customer_id=customer_id)
    baskets.add_item(basket_id=basket_id, product_id=product_id, quantity=quantity)
    if before_checkout:
        before_checkout(store_id=store_id, customer_id=customer_id)
    baskets.checkout_basket(basket_id=basket_id, payment_id=payment_id)
    return basket_id, payment_id, customer_id


def order(order_id):
    return models.Order.objects.get(id=order_id)


def saga_of(order_id):
    return SagaInstance.objects.get(saga_name=NAME, saga_id=order_id)


def test_all_steps_succeed_order_approved_list_available_payment_confirmed():
    order_id, payment_id, _ = given_checkout()
    deliver_all()
    row = order(order_id)
    assert row.status == "approved" and row.total == Decimal("49.95")
    shopping_list = depot_public.shopping_list_for_order(order_id)
    assert shopping_list.status == "available" and row.shopping_id == shopping_list.id
    assert payments_public.find_payment(payment_id).status == "confirmed"
    assert saga_of(order_id).status == "completed"


def test_customer_disabled_is_rejected_and_payment_released():
    order_id, payment_id, _ = given_checkout(
        before_checkout=lambda customer_id, **_: customers.disable_customer(customer_id=customer_id))
    deliver_all()
    assert (order(order_id).status, order(order_id).reason) == ("rejected", "customer is not authorized")
    assert payments_public.find_payment(payment_id).status == "released"
    assert saga_of(order_id).status == "compensated"
    assert depot_public.shopping_list_for_order(order_id) is None


def test_unknown_customer_is_rejected():
    order_id, payment_id, _ = given_checkout(customer_id="no-such-customer")
    deliver_all()
    assert (order(order_id).status, order(order_id).reason) == ("rejected", "customer not found")
    assert payments_public.find_payment(payment_id).status == "released"


def test_store_not_participating_is_rejected():
    order_id, payment_id, _ = given_checkout(
        before_checkout=lambda store_id, **_: stores.disable_participation(store_id=store_id))
    deliver_all()
    assert (order(order_id).status, order(order_id).reason) == ("rejected", "the store is not participating")
    assert payments_public.find_payment(payment_id).status == "released"


def test_payment_too_small_cancels_the_list_and_rejects():
    order_id, payment_id, _ = given_checkout(amount="10.00")
    with capture_outbox() as captured:
        deliver_all()
    assert (order(order_id).status, order(order_id).reason) == ("rejected", "the payment does not cover the order total")
    assert depot_public.shopping_list_for_order(order_id).status == "canceled"
    assert payments_public.find_payment(payment_id).status == "released"
    assert captured.names.index("depotapi.CancelShoppingListCommand") < captured.names.index("ordersapi.RejectOrder")


def test_payment_of_another_customer_is_rejected_and_left_alone():
    other = customers.register_customer(name="Bob", sms_number="555-0199")
    order_id, payment_id, _ = given_checkout(payment_customer=other)
    deliver_all()
    assert (order(order_id).status, order(order_id).reason) == ("rejected", "the payment belongs to another customer")
    assert payments_public.find_payment(payment_id).status == "authorized"


def test_payment_already_used_by_another_order_is_rejected():
    first_order, payment_id, customer_id = given_checkout()
    deliver_all()
    basket_id = baskets.start_basket(customer_id=customer_id)
    product_id = order(first_order).items[0]["product_id"]
    baskets.add_item(basket_id=basket_id, product_id=product_id, quantity=1)
    baskets.checkout_basket(basket_id=basket_id, payment_id=payment_id)
    deliver_all()
    assert (order(basket_id).status, order(basket_id).reason) == ("rejected", "the payment cannot be confirmed")
    assert order(first_order).status == "approved"
    assert payments_public.find_payment(payment_id).status == "confirmed"


def test_order_cancelled_while_step_3_is_in_flight_compensates_and_stays_cancelled():
    order_id, payment_id, _ = given_checkout()
    deliver_all(until=lambda: OutboxMessage.objects.filter(name="paymentsapi.ConfirmPayment").exists())
    assert saga_of(order_id).step == 3
    services.cancel_order(order_id=order_id, reason="customer")
    with capture_outbox() as captured:
        deliver_all()
    assert order(order_id).status == "cancelled"
    assert depot_public.shopping_list_for_order(order_id).status == "canceled"
    assert payments_public.find_payment(payment_id).status == "released"
    assert saga_of(order_id).status == "compensated"
    assert "depotapi.CancelShoppingListCommand" in captured.names and "ordersapi.RejectOrder" in captured.names


def given_pending_order() -> str:
    order_id, _, _ = given_checkout()
    deliver_all(until=lambda: SagaInstance.objects.filter(saga_name=NAME, saga_id=order_id).exists())
    return order_id


def test_cancelling_a_pending_order_tells_its_saga_in_the_same_transaction():
    order_id = given_pending_order()
    version = saga_of(order_id).version
    with capture_outbox():
        services.cancel_order(order_id=order_id, reason="customer")
    assert (saga_of(order_id).data[ORDER_CANCELLED], saga_of(order_id).version) == (True, version + 1)


def test_the_migration_tells_sagas_in_flight_that_their_order_was_cancelled_before_approval():
    cancelled, approved_then_cancelled, running = (given_pending_order() for _ in range(3))
    SagaInstance.objects.filter(saga_name=NAME).update(status="running")
    models.Order.objects.filter(id=cancelled).update(status="cancelled", shopping_id="")
    models.Order.objects.filter(id=approved_then_cancelled).update(status="cancelled", shopping_id="list-1")
    with connection.cursor() as cursor:
        cursor.execute(import_module("ordering.migrations.0002_saga_order_cancelled").FLAG)
    assert [ORDER_CANCELLED in saga_of(o).data for o in (cancelled, approved_then_cancelled, running)] == \
        [True, False, False]


def test_late_and_duplicate_replies_are_ignored():
    order_id, _, _ = given_checkout()
    deliver_all()
    first_reply = OutboxMessage.objects.filter(subject="mallbots.cosec.replies.CreateOrder").order_by("position").first()
    again = envelope_of(first_reply)
    replayed = again.__class__(**{**again.__dict__, "id": str(uuid.uuid4())})
    version = saga_of(order_id).version
    events = StoredEvent.objects.count()
    with capture_outbox() as captured:
        messaging.handle(messaging.get_durable("ordering-replies"), replayed)
        messaging.handle(messaging.get_durable("ordering-replies"), again)
    assert captured.messages == [] and saga_of(order_id).version == version
    assert StoredEvent.objects.count() == events


def test_rest_order_goes_through_the_same_saga():
    store_id, product_id = given_catalog()
    customer_id = customers.register_customer(name="Cy", sms_number="555-0142")
    payment_id = payments.authorize_payment(customer_id=customer_id, amount=Decimal("20"))
    order_id = services.create_order(customer_id=customer_id, payment_id=payment_id, items=[
        {"product_id": product_id, "store_id": store_id, "store_name": "Books", "product_name": "Novel",
         "price": Decimal("9.99"), "quantity": 2}])
    deliver_all()
    assert order(order_id).status == "approved"


def test_checkout_redelivered_creates_one_order():
    order_id, _, _ = given_checkout()
    checked_out = OutboxMessage.objects.get(name="basketsapi.BasketCheckedOut")
    deliver_all()
    fresh = envelope_of(checked_out)
    messaging.handle(messaging.get_durable("ordering-baskets"), fresh.__class__(**{**fresh.__dict__, "id": str(uuid.uuid4())}))
    deliver_all()
    assert StoredEvent.objects.filter(stream_type="ordering.Order", stream_id=order_id,
                                      event_name="ordering.OrderCreated").count() == 1
    assert SagaInstance.objects.filter(saga_id=order_id).count() == 1
    assert sagas.instance(NAME, order_id).status == "completed"


def test_shopping_to_completion_readies_invoices_and_completes():
    order_id, payment_id, _ = given_checkout(quantity=3)
    deliver_all()
    list_id = depot_public.shopping_list_for_order(order_id).id
    product_id = order(order_id).items[0]["product_id"]
    depot.assign_shopping_list(list_id=list_id, bot_id=given_bot("bot-1"))
    depot.start_shopping(list_id=list_id)
    deliver_all()
    assert order(order_id).status == "in-progress"
    depot.pick_item(list_id=list_id, product_id=product_id, quantity=2)
    depot.complete_shopping_list(list_id=list_id)
    deliver_all()
    row = order(order_id)
    assert row.status == "ready" and row.total == Decimal("19.98") and row.items[0]["quantity"] == 2
    assert payments_public.find_invoice(order_id).amount == Decimal("19.98")
    payments.pay_invoice(invoice_id=order_id)
    deliver_all()
    assert order(order_id).status == "completed" and order(order_id).invoice_id == order_id
    assert payments_public.find_payment(payment_id).status == "captured"


def test_an_order_cancelled_after_step_5_approved_it_completes_the_saga_instead_of_compensating():
    """Found by the fault suite: a fast bot completes the list (step 4 made it available) with nothing picked
    before the saga reads step 5's reply; the approved order is cancelled (items unavailable) and the saga,
    reading "cancelled", compensated: cancelling a completed list fails, so it ended ``failed`` for an operator.
    Approved, the order is past the saga (rule 5's "meanwhile" is before the step's effect)."""
    order_id, payment_id, _ = given_checkout()
    deliver_all(until=lambda: OutboxMessage.objects.filter(name="ordersapi.ApproveOrder").exists())
    list_id = depot_public.shopping_list_for_order(order_id).id
    depot.assign_shopping_list(list_id=list_id, bot_id=given_bot("bot-1"))
    depot.start_shopping(list_id=list_id)
    depot.complete_shopping_list(list_id=list_id)
    approve = OutboxMessage.objects.get(name="ordersapi.ApproveOrder")
    completed = OutboxMessage.objects.get(name="depotapi.ShoppingListCompleted")
    messaging.handle(messaging.get_durable("ordering-commands"), envelope_of(approve))
    messaging.handle(messaging.get_durable("ordering-depot"), envelope_of(completed))
    assert order(order_id).status == "cancelled"
    deliver_all()
    assert saga_of(order_id).status == "completed"
    assert order(order_id).status == "cancelled" and order(order_id).reason == "items-unavailable"
    assert depot_public.shopping_list_for_order(order_id).status == "completed"
    assert payments_public.find_payment(payment_id).status == "released"
