"""The depot-commands durable (events.md §5, §6): saga commands in, replies out, idempotent."""

import uuid

import pytest
from django.db import transaction

from depot import contracts, models
from depot.tests.conftest import list_in
from eventstore import messaging
from eventstore.commands import SagaHeaders, send_command
from eventstore.models import InboxMessage, OutboxMessage, StoredEvent
from eventstore.testing import capture_outbox, deliver_all, envelope_of

pytestmark = pytest.mark.django_db
REPLIES = "mallbots.cosec.replies.CreateOrder"


def send(command, step=2, compensating=False):
    with transaction.atomic():
        send_command(command, reply_channel=REPLIES, saga=SagaHeaders(saga_id="order-1", saga_name="cosec.CreateOrder",
                                                                      step=step, compensating=compensating))


def run(command, **saga):
    """Send ``command`` as the saga does and deliver it to the depot; return the messages it caused."""
    send(command, **saga)
    with capture_outbox() as captured:
        deliver_all(modules=["depot"])
    return captured.messages


def item(product_id, store_id, quantity):
    return contracts.CreateShoppingListItem(product_id=product_id, store_id=store_id, quantity=quantity)


def create_command(mall, order_id="order-1"):
    return contracts.CreateShoppingListCommand(order_id=order_id, items=(
        item(mall.novel, mall.books, 1), item(mall.robot, mall.toys, 2), item(mall.kite, mall.toys, 1),
        item(mall.novel, mall.books, 2)))


def test_given_valid_items_when_create_command_then_reply_with_new_list_grouped_and_merged(mall):
    [reply] = run(create_command(mall))
    assert (reply.name, reply.subject) == ("depotapi.CreatedShoppingListReply", REPLIES)
    row = models.ShoppingList.objects.get(order_id="order-1")
    assert reply.payload == {"id": row.id}
    assert {k: v for k, v in reply.metadata.items() if k.startswith("REPLY_")} == {
        "REPLY_REPLY_CHANNEL": REPLIES, "REPLY_SAGA_ID": "order-1", "REPLY_SAGA_NAME": "cosec.CreateOrder",
        "REPLY_SAGA_STEP": "2", "REPLY_SAGA_COMPENSATING": "false", "REPLY_OUTCOME": "SUCCESS"}
    assert row.status == "pending"
    assert [(s["store_id"], [(i["product_id"], i["quantity"]) for i in s["items"]]) for s in row.stops] == [
        (mall.books, [(mall.novel, 3)]), (mall.toys, [(mall.robot, 2), (mall.kite, 1)])]
    [event] = StoredEvent.objects.filter(stream_id=row.id)
    assert event.payload["order_id"] == "order-1" and event.payload["stops"][0] == {
        "store_id": mall.books, "store_name": "Books", "store_location": "Level 2",
        "items": [{"product_id": mall.novel, "product_name": "Novel", "quantity": 3}]}


def test_given_order_with_a_list_when_create_command_again_then_reply_with_the_existing_id(mall):
    [first] = run(create_command(mall))
    [second] = run(create_command(mall))
    assert second.name == "depotapi.CreatedShoppingListReply" and second.payload == first.payload
    assert models.ShoppingList.objects.count() == 1
    assert StoredEvent.objects.filter(stream_type="depot.ShoppingList").count() == 1


def test_given_redelivered_create_command_then_no_second_effect_and_no_second_reply(mall):
    send(create_command(mall))
    envelope = envelope_of(OutboxMessage.objects.get(name="depotapi.CreateShoppingListCommand"))
    durable = messaging.get_durable("depot-commands")
    with capture_outbox() as captured:
        assert messaging.handle(durable, envelope) is messaging.Outcome.HANDLED
        assert messaging.handle(durable, envelope, delivery=2) is messaging.Outcome.DUPLICATE
    assert captured.names == ["depotapi.CreatedShoppingListReply"]
    assert InboxMessage.objects.filter(consumer="depot-commands").count() == 1


FAILURES = [
    ("unknown store", lambda m: (item(m.robot, "nowhere", 1),), "store not found"),
    ("unknown product", lambda m: (item("nothing", m.toys, 1),), "product not found"),
    ("foreign product", lambda m: (item(m.robot, m.toys, 1), item(m.novel, m.toys, 1)),
     "the product does not belong to the store"),
    ("no items", lambda m: (), "the shopping list has no items"),
    ("blank product", lambda m: (item("", m.toys, 1),), "the product id cannot be blank"),
    ("blank store", lambda m: (item(m.robot, "", 1),), "the store id cannot be blank"),
    ("zero quantity", lambda m: (item(m.robot, m.toys, 0),), "the item quantity cannot be zero"),
    ("negative quantity", lambda m: (item(m.robot, m.toys, -2),), "the item quantity cannot be negative"),
]


@pytest.mark.parametrize("case,items,text", FAILURES, ids=[f[0] for f in FAILURES])
def test_given_bad_items_when_create_command_then_failure_reply_and_nothing_created(mall, case, items, text):
    [reply] = run(contracts.CreateShoppingListCommand(order_id="order-1", items=items(mall)))
    assert (reply.name, reply.payload, reply.metadata["REPLY_OUTCOME"]) == ("am.Failure", {"message": text},
                                                                            "FAILURE")
    assert not models.ShoppingList.objects.exists()
    assert not StoredEvent.objects.filter(stream_type="depot.ShoppingList").exists()


def test_given_store_out_of_service_when_create_command_then_failure_not_participating(mall, catalog):
    catalog.leave(mall.books)
    [reply] = run(create_command(mall))
    assert reply.payload == {"message": "the store is not participating"}


def test_given_blank_order_when_create_command_then_failure(mall):
    [reply] = run(contracts.CreateShoppingListCommand(order_id="", items=(item(mall.robot, mall.toys, 1),)))
    assert reply.payload == {"message": "the order id cannot be blank"}


def test_given_pending_list_when_initiate_command_twice_then_available_once_and_success_twice(mall):
    list_id = list_in(mall, "pending")
    assert [(m.name, m.metadata["REPLY_SAGA_STEP"]) for m in run(
        contracts.InitiateShoppingCommand(id=list_id), step=4)] == [("am.Success", "4")]
    assert [m.name for m in run(contracts.InitiateShoppingCommand(id=list_id), step=4)] == ["am.Success"]
    assert models.ShoppingList.objects.get(id=list_id).status == "available"
    assert list(StoredEvent.objects.filter(stream_id=list_id).values_list("event_name", flat=True)) == [
        "depot.ShoppingListCreated", "depot.ShoppingListInitiated"]


@pytest.mark.parametrize("state", ["assigned", "active", "completed"])
def test_given_list_past_available_when_initiate_command_then_success_without_change(mall, state):
    list_id = list_in(mall, state)
    version = models.ShoppingList.objects.get(id=list_id).version
    assert [m.name for m in run(contracts.InitiateShoppingCommand(id=list_id), step=4)] == ["am.Success"]
    assert models.ShoppingList.objects.get(id=list_id).version == version


@pytest.mark.parametrize("command,state,text", [
    (contracts.InitiateShoppingCommand, "canceled", "the shopping list cannot be initiated"),
    (contracts.InitiateShoppingCommand, None, "shopping list not found"),
    (contracts.CancelShoppingListCommand, "completed", "the shopping list cannot be canceled"),
    (contracts.CancelShoppingListCommand, None, "shopping list not found"),
])
def test_given_list_in_a_closed_state_or_missing_when_command_then_failure(mall, command, state, text):
    list_id = list_in(mall, state) if state else str(uuid.uuid4())
    [reply] = run(command(id=list_id))
    assert (reply.name, reply.payload) == ("am.Failure", {"message": text})


@pytest.mark.parametrize("state", ["pending", "available", "assigned", "active"])
def test_given_open_list_when_cancel_command_twice_then_canceled_once_and_success_twice(mall, state):
    list_id = list_in(mall, state)
    first = run(contracts.CancelShoppingListCommand(id=list_id), compensating=True)
    released = ["depotapi.BotAvailable"] if state in ("assigned", "active") else []
    assert [m.name for m in first] == ["depotapi.ShoppingListCanceled", *released, "am.Success"]
    assert first[0].payload == {"id": list_id, "order_id": "order-1"}
    assert first[-1].metadata["REPLY_SAGA_COMPENSATING"] == "true"
    assert [m.name for m in run(contracts.CancelShoppingListCommand(id=list_id), compensating=True)] == ["am.Success"]
    assert models.ShoppingList.objects.get(id=list_id).status == "canceled"
