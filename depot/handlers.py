"""Depot handlers.

In-transaction (``@handles``): the shopping-list read-model projections (the only writers of
``depot.models.ShoppingList``) and the translation to ``depotapi`` integration events (outbox).

Broker (durables declared in ``depot.apps``): the saga's commands (``depot-commands``), order
cancellation and rejection (``depot-orders``), and the stores caches (``depot-stores``,
``depot-products``).
"""

from __future__ import annotations

from depot import caches, contracts, domain, services
from depot.models import Bot as BotRow
from depot.models import ShoppingList as ShoppingListRow
from eventstore import codec, outbox, store
from eventstore.commands import command_handler
from eventstore.messaging import Received
from eventstore.registry import handles, projection
from eventstore.repository import RecordedEvent

# --- projections -------------------------------------------------------------------------------


_LISTS = ShoppingListRow._meta.db_table
_INSERT_LIST = (f"INSERT INTO {_LISTS} (id, order_id, status, assigned_bot_id, stops, created_at, updated_at, version)"
                " VALUES (%s, %s, %s, '', %s::jsonb, %s, %s, %s)")

# The list projections on the order path write with deferred statements (``store.write``, ADR 27): their
# rows reach the database in front of the transaction's next statement (dispatch reads them) or its commit.


@projection(domain.ShoppingListCreated)
def project_created(recorded: RecordedEvent) -> None:
    event = recorded.event
    stops = [{"store_id": s.store_id, "store_name": s.store_name, "store_location": s.store_location,
              "items": [{"product_id": i.product_id, "product_name": i.product_name, "quantity": i.quantity,
                         "picked_quantity": 0, "status": domain.ITEM_PENDING} for i in s.items]}
             for s in event.stops]
    store.write(_INSERT_LIST, [recorded.stream_id, event.order_id, domain.PENDING, codec.dumps(stops),
                               recorded.occurred_at, recorded.occurred_at, recorded.version])


_STATUS_AFTER = {
    domain.ShoppingListInitiated: domain.AVAILABLE,
    domain.ShoppingListAssigned: domain.ASSIGNED,
    domain.ShoppingListStarted: domain.ACTIVE,
    domain.ShoppingListCompleted: domain.COMPLETED,
    domain.ShoppingListCanceled: domain.CANCELED,
}


@projection(*_STATUS_AFTER)
def project_status(recorded: RecordedEvent) -> None:
    fields = {"status": _STATUS_AFTER[type(recorded.event)], "version": recorded.version,
              "updated_at": recorded.occurred_at}
    if isinstance(recorded.event, domain.ShoppingListAssigned):
        fields["assigned_bot_id"] = recorded.event.bot_id
    store.write(f"UPDATE {_LISTS} SET " + ", ".join(f"{column} = %s" for column in fields) + " WHERE id = %s",
                [*fields.values(), recorded.stream_id])


@projection(domain.ShoppingListItemPicked, domain.ShoppingListItemUnavailable)
def project_item_report(recorded: RecordedEvent) -> None:
    event = recorded.event
    picked = isinstance(event, domain.ShoppingListItemPicked)
    row = ShoppingListRow.objects.select_for_update().get(id=recorded.stream_id)
    for stop in row.stops:
        for item in stop["items"]:
            if item["product_id"] == event.product_id:
                item["picked_quantity"] = event.quantity if picked else 0
                item["status"] = domain.ITEM_PICKED if picked else domain.ITEM_UNAVAILABLE
    ShoppingListRow.objects.filter(id=row.id).update(stops=row.stops, version=recorded.version,
                                                     updated_at=recorded.occurred_at)


@projection(domain.BotRegistered)
def project_bot_registered(recorded: RecordedEvent) -> None:
    BotRow.objects.create(id=recorded.stream_id, name=recorded.event.bot_name, status=domain.OFFLINE,
                          shopping_list_id="", available_since=None, created_at=recorded.occurred_at,
                          updated_at=recorded.occurred_at, version=recorded.version)


@projection(domain.BotWentOnline, domain.BotWentOffline, domain.BotAssigned, domain.BotReleased)
def project_bot(recorded: RecordedEvent) -> None:
    """Status and list from the aggregate; ``available_since`` = when it became idle (dispatch order)."""
    bot: domain.Bot = recorded.aggregate
    BotRow.objects.filter(id=bot.id).update(
        status=bot.status, shopping_list_id=bot.shopping_list_id,
        available_since=recorded.occurred_at if bot.available else None,
        updated_at=recorded.occurred_at, version=recorded.version)


# --- integration events ------------------------------------------------------------------------


@handles(domain.BotWentOnline, domain.BotReleased)
def publish_bot_available(recorded: RecordedEvent) -> None:
    outbox.publish(contracts.BotAvailable(id=recorded.stream_id, name=recorded.aggregate.bot_name),
                   recorded=recorded)


@handles(domain.BotWentOffline, domain.BotAssigned)
def publish_bot_unavailable(recorded: RecordedEvent) -> None:
    bot: domain.Bot = recorded.aggregate
    outbox.publish(contracts.BotUnavailable(id=recorded.stream_id, name=bot.bot_name, status=bot.status),
                   recorded=recorded)


@handles(domain.ShoppingListStarted)
def publish_started(recorded: RecordedEvent) -> None:
    shopping_list = recorded.aggregate
    outbox.publish(contracts.ShoppingListStarted(id=recorded.stream_id, order_id=shopping_list.order_id,
                                                 bot_id=shopping_list.assigned_bot_id), recorded=recorded)


@handles(domain.ShoppingListItemUnavailable)
def publish_item_unavailable(recorded: RecordedEvent) -> None:
    event = recorded.event
    outbox.publish(contracts.ShoppingListItemUnavailable(
        id=recorded.stream_id, order_id=recorded.aggregate.order_id, store_id=event.store_id,
        product_id=event.product_id, quantity=event.quantity), recorded=recorded)


@handles(domain.ShoppingListCompleted)
def publish_completed(recorded: RecordedEvent) -> None:
    shopping_list = recorded.aggregate
    items = tuple(contracts.CompletedItem(product_id=i.product_id, store_id=i.store_id, quantity=i.quantity,
                                          picked_quantity=i.picked_quantity) for i in shopping_list.items)
    outbox.publish(contracts.ShoppingListCompleted(id=recorded.stream_id, order_id=shopping_list.order_id,
                                                   items=items), recorded=recorded)


@handles(domain.ShoppingListCanceled)
def publish_canceled(recorded: RecordedEvent) -> None:
    outbox.publish(contracts.ShoppingListCanceled(id=recorded.stream_id, order_id=recorded.aggregate.order_id),
                   recorded=recorded)


# --- depot-commands ----------------------------------------------------------------------------


@command_handler
def on_create_shopping_list(received: Received) -> contracts.CreatedShoppingListReply:
    command = received.message
    lines = [services.Line(product_id=i.product_id, store_id=i.store_id, quantity=i.quantity) for i in command.items]
    list_id = services.create_shopping_list(order_id=command.order_id, items=lines, existing_ok=True)
    return contracts.CreatedShoppingListReply(id=list_id)


@command_handler
def on_initiate_shopping(received: Received) -> None:
    services.initiate_shopping(list_id=received.message.id, by_saga=True)


@command_handler
def on_cancel_shopping_list(received: Received) -> None:
    services.cancel_shopping_list_for_saga(list_id=received.message.id)


# --- depot-orders ------------------------------------------------------------------------------


def on_order_closed(received: Received) -> None:
    """OrderRejected / OrderCanceled: cancel the order's open shopping list, if any."""
    services.cancel_shopping_list_for_order(order_id=received.message.id)


# --- depot-stores / depot-products -------------------------------------------------------------


def on_store_created(received: Received) -> None:
    event = received.message
    caches.store_created(store_id=event.id, name=event.name, location=event.location,
                         version=received.aggregate_version)


def on_store_participation_toggled(received: Received) -> None:
    event = received.message
    caches.store_changed(store_id=event.id, version=received.aggregate_version, participating=event.participating)


def on_store_rebranded(received: Received) -> None:
    event = received.message
    caches.store_changed(store_id=event.id, version=received.aggregate_version, name=event.name)


def on_product_added(received: Received) -> None:
    event = received.message
    caches.product_added(product_id=event.id, store_id=event.store_id, name=event.name,
                         version=received.aggregate_version)


def on_product_rebranded(received: Received) -> None:
    event = received.message
    caches.product_changed(product_id=event.id, version=received.aggregate_version, name=event.name)


def on_product_repriced(received: Received) -> None:
    """ProductPriceIncreased, ProductPriceDecreased: the depot keeps no price; the version advances (ADR 34)."""
    caches.product_changed(product_id=received.message.id, version=received.aggregate_version)


def on_product_removed(received: Received) -> None:
    caches.product_removed(product_id=received.message.id, version=received.aggregate_version)
