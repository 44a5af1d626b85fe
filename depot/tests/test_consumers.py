"""The depot's event consumers: depot-orders (events.md §8) and the stores caches depot-stores / depot-products."""

from decimal import Decimal

import pytest
from django.db import transaction

from depot import models, services
from depot.tests.conftest import list_in
from eventstore import messaging, outbox
from eventstore.errors import NotFound
from eventstore.models import OutboxMessage, StoredEvent
from eventstore.testing import capture_outbox, deliver_all, envelope_of
from ordering import contracts as ordering
from stores import contracts as stores

pytestmark = pytest.mark.django_db


def publish(message, version=0):
    with transaction.atomic():
        outbox.publish(message, headers={"aggregate_version": version} if version else None)


def deliver():
    with capture_outbox() as captured:
        deliver_all(modules=["depot"])
    return captured.messages


# ---------------------------------------------------------------- depot-orders


@pytest.mark.parametrize("event", [ordering.OrderCanceled, ordering.OrderRejected])
@pytest.mark.parametrize("state", ["pending", "available", "assigned", "active"])
def test_given_open_list_when_its_order_is_closed_then_the_list_is_canceled(mall, event, state):
    list_id = list_in(mall, state)
    list_in(mall, "active", order_id="order-2", bot_id="bot-2")
    publish(event(id="order-1", customer_id="c", payment_id="p", reason="customer"))
    message, *released = deliver()
    assert (message.name, message.payload) == ("depotapi.ShoppingListCanceled", {"id": list_id, "order_id": "order-1"})
    assert [m.name for m in released] == (["depotapi.BotAvailable"] if state in ("assigned", "active") else [])
    assert dict(models.ShoppingList.objects.values_list("order_id", "status")) == {"order-1": "canceled",
                                                                                   "order-2": "active"}


@pytest.mark.parametrize("state", ["completed", "canceled"])
def test_given_closed_list_when_its_order_is_closed_then_ignored(mall, state):
    list_id = list_in(mall, state)
    events = StoredEvent.objects.filter(stream_id=list_id).count()
    publish(ordering.OrderCanceled(id="order-1", reason="staff"))
    assert deliver() == []
    assert StoredEvent.objects.filter(stream_id=list_id).count() == events
    assert models.ShoppingList.objects.get(id=list_id).status == state


def test_given_order_without_list_when_closed_then_ignored(mall):
    publish(ordering.OrderRejected(id="order-without-list", reason="customer not found"))
    assert deliver() == []


def test_given_redelivered_order_event_then_no_second_effect(mall):
    list_id = list_in(mall, "assigned")
    publish(ordering.OrderCanceled(id="order-1", reason="customer"))
    envelope = envelope_of(OutboxMessage.objects.get(name="ordersapi.OrderCanceled"))
    durable = messaging.get_durable("depot-orders")
    with capture_outbox() as captured:
        assert messaging.handle(durable, envelope) is messaging.Outcome.HANDLED
        assert messaging.handle(durable, envelope, delivery=2) is messaging.Outcome.DUPLICATE
    assert captured.names == ["depotapi.ShoppingListCanceled", "depotapi.BotAvailable"]
    assert StoredEvent.objects.filter(stream_id=list_id, event_name="depot.ShoppingListCanceled").count() == 1


# ---------------------------------------------------------------- depot-stores / depot-products


def store_row(store_id):
    return models.StoreCache.objects.filter(id=store_id).values("name", "location", "participating", "version",
                                                                "removed").first()


def product_row(product_id):
    return models.ProductCache.objects.filter(id=product_id).values("store_id", "name", "version", "removed").first()


def test_given_store_events_when_consumed_then_cache_follows_name_location_and_participation(catalog):
    store_id = catalog.store("Toys", "Level 1")
    deliver()
    assert store_row(store_id) == {"name": "Toys", "location": "Level 1", "participating": True, "version": 1,
                                   "removed": False}
    catalog.leave(store_id)
    catalog.rebrand_store(store_id, "Toy Palace")
    deliver()
    assert store_row(store_id) == {"name": "Toy Palace", "location": "Level 1", "participating": False,
                                   "version": 3, "removed": False}
    catalog.rejoin(store_id)
    deliver()
    assert store_row(store_id)["participating"] is True


def test_given_stale_store_events_when_consumed_then_ignored(catalog):
    store_id = catalog.store("Toys", "Level 1")
    catalog.rebrand_store(store_id, "Toy Palace")
    deliver()
    publish(stores.StoreRebranded(id=store_id, name="Old name"), version=1)
    publish(stores.StoreParticipationToggled(id=store_id, participating=False), version=2)
    publish(stores.StoreCreated(id=store_id, name="Toys", location="Basement"), version=1)
    deliver()
    assert store_row(store_id) == {"name": "Toy Palace", "location": "Level 1", "participating": True, "version": 2,
                                   "removed": False}


def test_given_update_for_unknown_store_row_then_row_is_read_through_the_facade(catalog):
    store_id = catalog.store("Toys", "Level 1")
    catalog.rebrand_store(store_id, "Toy Palace")
    catalog.leave(store_id)
    OutboxMessage.objects.filter(published_at__isnull=True).update(published_at="2026-01-01T00:00:00Z")
    publish(stores.StoreRebranded(id=store_id, name="Toy Palace"), version=2)
    deliver()
    assert store_row(store_id) == {"name": "Toy Palace", "location": "Level 1", "participating": False,
                                   "version": 3, "removed": False}
    publish(stores.StoreRebranded(id="unknown-store", name="Ghost"), version=4)
    deliver()
    assert store_row("unknown-store") is None


def test_given_product_events_when_consumed_then_cache_keeps_name_and_a_tombstone(catalog, mall):
    assert product_row(mall.robot) == {"store_id": mall.toys, "name": "Robot", "version": 1, "removed": False}
    catalog.rebrand_product(mall.robot, "Robot 2000")
    deliver()
    assert product_row(mall.robot) == {"store_id": mall.toys, "name": "Robot 2000", "version": 2, "removed": False}
    catalog.remove(mall.robot)
    deliver()
    assert product_row(mall.robot) == {"store_id": mall.toys, "name": "Robot 2000", "version": 3, "removed": True}
    publish(stores.ProductAdded(id=mall.robot, store_id=mall.toys, name="Robot", description="", sku="",
                                price=Decimal("9.99")), version=1)
    publish(stores.ProductRebranded(id=mall.robot, name="Resurrected", description=""), version=9)
    deliver()
    assert product_row(mall.robot) == {"store_id": mall.toys, "name": "Robot 2000", "version": 3, "removed": True}


def test_given_removal_of_an_unknown_product_row_then_a_tombstone_is_inserted(catalog, mall):
    catalog.remove(mall.kite)
    models.ProductCache.objects.filter(id=mall.kite).delete()
    publish(stores.ProductRemoved(id=mall.kite), version=2)
    publish(stores.ProductRemoved(id="never-seen"), version=2)
    publish(stores.ProductAdded(id="never-seen", store_id=mall.toys, name="Late", description="", sku="",
                                price=Decimal("1.00")), version=1)
    deliver()
    assert product_row(mall.kite) == {"store_id": mall.toys, "name": "Kite", "version": 2, "removed": True}
    assert product_row("never-seen") == {"store_id": "", "name": "", "version": 2, "removed": True}


def test_given_stale_product_rebrand_when_consumed_then_ignored(catalog, mall):
    catalog.rebrand_product(mall.novel, "Novel, 2nd ed.")
    deliver()
    publish(stores.ProductRebranded(id=mall.novel, name="Novel", description=""), version=1)
    deliver()
    assert product_row(mall.novel)["name"] == "Novel, 2nd ed."


def test_given_redelivered_cache_event_then_no_second_effect(catalog):
    store_id = catalog.store("Toys", "Level 1")
    deliver()
    publish(stores.StoreRebranded(id=store_id, name="Toy Palace"), version=2)
    envelope = envelope_of(OutboxMessage.objects.get(name="storesapi.StoreRebranded"))
    durable = messaging.get_durable("depot-stores")
    assert messaging.handle(durable, envelope) is messaging.Outcome.HANDLED
    models.StoreCache.objects.filter(id=store_id).update(name="changed since")
    assert messaging.handle(durable, envelope, delivery=2) is messaging.Outcome.DUPLICATE
    assert store_row(store_id)["name"] == "changed since"


def test_given_empty_caches_when_a_list_is_created_then_stores_and_products_are_read_through_the_facade(catalog):
    toys = catalog.store("Toys", "Level 1")
    robot = catalog.product(toys, "Robot")
    catalog.rebrand_store(toys, "Toy Palace")
    assert store_row(toys) is None and product_row(robot) is None
    list_id = services.create_shopping_list(order_id="o", items=[services.Line(robot, toys, 1)])
    assert store_row(toys) == {"name": "Toy Palace", "location": "Level 1", "participating": True, "version": 2,
                               "removed": False}
    assert product_row(robot) == {"store_id": toys, "name": "Robot", "version": 1, "removed": False}
    assert models.ShoppingList.objects.get(id=list_id).stops[0]["store_name"] == "Toy Palace"
    deliver()
    assert store_row(toys)["version"] == 2 and store_row(toys)["name"] == "Toy Palace"


def test_given_removed_product_unknown_to_the_cache_when_listed_then_product_not_found(catalog):
    toys = catalog.store("Toys", "Level 1")
    robot = catalog.product(toys, "Robot")
    catalog.remove(robot)
    with pytest.raises(NotFound, match="product not found"):
        services.create_shopping_list(order_id="o", items=[services.Line(robot, toys, 1)])


def test_the_orders_list_and_its_stores_and_products_come_in_one_statement_as_the_row_by_row_reads_give_them(mall, catalog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from depot import caches
    from eventstore import copies

    catalog.remove(mall.kite)
    deliver_all(modules=["depot"])
    models.StoreCache.objects.filter(id=mall.books).delete()
    ids = ([mall.toys, mall.books, mall.toys], [mall.robot, mall.kite, mall.novel])
    with CaptureQueriesContext(connection) as captured:
        _, stores, products = caches.list_stores_and_products("order-x", *ids)
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().startswith("SELECT")]
    assert "json_agg" in reads[0] and "_storecache" in reads[0] and "_productcache" in reads[0]
    assert "_shoppinglist" in reads[0]
    assert sorted(stores) == sorted([mall.toys, mall.books]) and sorted(products) == sorted([mall.robot, mall.novel])
    one_by_one = {key: copies.read(models.StoreCache, key, lambda key: None) for key in stores}
    assert [(s.pk, s.name, s.location, s.participating, s.version, s.removed) for s in stores.values()] == \
        [(s.pk, s.name, s.location, s.participating, s.version, s.removed) for s in (one_by_one[k] for k in stores)]
    assert products[mall.robot].name == "Robot" and products[mall.robot].store_id == mall.toys
