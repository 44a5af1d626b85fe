"""Depot events about one shopping list reaching ordering out of order (a redelivery, two consumer
processes on ``ordering-depot``): the order's state machine decides, so a late event changes nothing."""

from decimal import Decimal

import pytest
from django.db import transaction

from depot.contracts import CompletedItem, ShoppingListCanceled, ShoppingListCompleted, ShoppingListStarted
from eventstore import outbox
from eventstore.models import StoredEvent
from eventstore.testing import deliver_all
from ordering import models
from ordering.tests.test_flow import given_checkout

pytestmark = pytest.mark.django_db


def given_approved_order():
    order_id, _, _ = given_checkout(quantity=3)
    deliver_all()
    row = models.Order.objects.get(id=order_id)
    assert row.status == "approved"
    return row


def publish_at(message, version: int, order) -> None:
    headers = {"aggregate_type": "depot.ShoppingList", "aggregate_id": order.shopping_id, "aggregate_version": version}
    with transaction.atomic():
        outbox.publish(message, headers=headers)


def order_events(order_id) -> list[str]:
    return list(StoredEvent.objects.filter(stream_type="ordering.Order", stream_id=order_id)
                .order_by("version").values_list("event_name", flat=True))


def test_given_list_completed_handled_before_list_started_then_the_order_is_ready_and_the_start_is_ignored():
    order = given_approved_order()
    item = order.items[0]
    completed = ShoppingListCompleted(id=order.shopping_id, order_id=order.id, items=(
        CompletedItem(product_id=item["product_id"], store_id=item["store_id"], quantity=3, picked_quantity=2),))
    publish_at(completed, 6, order)
    publish_at(ShoppingListStarted(id=order.shopping_id, order_id=order.id, bot_id="bot-1"), 4, order)
    deliver_all()
    row = models.Order.objects.get(id=order.id)
    assert (row.status, row.total) == ("ready", Decimal("19.98"))
    assert order_events(order.id)[-1] == "ordering.OrderReadied"
    assert "ordering.OrderStarted" not in order_events(order.id)


def test_given_list_canceled_handled_before_list_started_then_the_order_is_cancelled_and_stays_so():
    order = given_approved_order()
    publish_at(ShoppingListCanceled(id=order.shopping_id, order_id=order.id), 5, order)
    publish_at(ShoppingListStarted(id=order.shopping_id, order_id=order.id, bot_id="bot-1"), 4, order)
    deliver_all()
    row = models.Order.objects.get(id=order.id)
    assert (row.status, row.reason) == ("cancelled", "shopping-list-canceled")
    assert "ordering.OrderStarted" not in order_events(order.id)
