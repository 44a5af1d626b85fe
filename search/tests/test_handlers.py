"""The search-* durables on real PostgreSQL (events.md §8): the search_order rows follow the order events of
the real modules (deliver_all), out-of-order and missing-row rules, and the caches' version guards,
tombstones and facade fallback."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from eventstore import codec, projections
from eventstore.errors import RetryLater
from eventstore.messaging import get_durable, handle
from eventstore.models import StoredEvent
from eventstore.testing import deliver_all
from eventstore.tests.test_backend import sent
from mallbots_site.tests.scenario import a_day_at_the_mall, checkout, shop
from ordering import contracts as ordering_contracts
from search import caches, selectors
from search.models import CustomerCache, Order, ProductCache, StoreCache
from stores import contracts as stores_contracts

pytestmark = pytest.mark.django_db
D = Decimal


def occurred_at(order_id: str, event_name: str):
    return StoredEvent.objects.get(stream_type="ordering.Order", stream_id=order_id, event_name=event_name).occurred_at


def deliver(durable: str, message, *, version: int, occurred: str = "2026-11-22T10:00:00.000000Z",
            aggregate_type: str = "ordering.Order"):
    """Hand one hand-made message to ``durable`` as the consumer runner would (inbox, one transaction)."""
    from eventstore.envelope import Envelope
    from eventstore.schema import to_dict

    envelope = Envelope(id=str(uuid.uuid4()), name=message.message_name, subject=message.subject,
                        payload=codec.loads(codec.dumps(to_dict(message))),
                        metadata={"aggregate_type": aggregate_type, "aggregate_id": message.id,
                                  "aggregate_version": version, "occurred_at": occurred},
                        sent_at=occurred)
    return handle(get_durable(durable), envelope)


def test_the_rows_follow_every_order_of_a_day_at_the_mall():
    mall = a_day_at_the_mall()
    rows = {label: selectors.find_order(order_id) for label, order_id in mall.orders.items()}
    assert {label: row.status for label, row in rows.items()} == {
        "completed": "completed", "ready": "ready", "in-progress": "in-progress", "approved": "approved",
        "cancelled": "cancelled", "rejected": "rejected"}
    completed = rows["completed"]
    assert (completed.customer_id, completed.customer_name) == (mall.ann, "Ann")
    assert completed.items == [
        {"product_id": mall.novel, "store_id": mall.books, "product_name": "Novel", "store_name": "Books",
         "price": D("8.50"), "quantity": 2},
        {"product_id": mall.robot, "store_id": mall.toys, "product_name": "Robot", "store_name": "Toy Palace",
         "price": D("45.00"), "quantity": 1}]
    assert completed.total == D("62.00")
    assert (completed.product_ids, completed.store_ids) == (sorted([mall.novel, mall.robot]),
                                                             sorted([mall.books, mall.toys]))
    order_id = mall.orders["completed"]
    assert completed.created_at == occurred_at(order_id, "ordering.OrderCreated")
    assert completed.updated_at == occurred_at(order_id, "ordering.OrderCompleted")
    assert completed.version == StoredEvent.objects.filter(stream_type="ordering.Order", stream_id=order_id).count()


def test_order_readied_replaces_items_and_total_with_the_delivered_ones():
    mall = a_day_at_the_mall()
    ready = selectors.find_order(mall.orders["ready"])
    assert [(i["product_name"], i["quantity"]) for i in ready.items] == [("World Atlas", 1), ("Robot", 1)]
    assert ready.total == D("70.00")
    assert ready.store_ids == sorted([mall.books, mall.toys])


def test_an_order_with_nothing_picked_of_a_product_no_longer_lists_it():
    mall = a_day_at_the_mall()
    order_id = checkout(mall.bob, [(mall.atlas, 1), (mall.robot, 1)])
    deliver_all()
    assert sorted(Order.objects.get(order_id=order_id).product_ids) == sorted([mall.atlas, mall.robot])
    shop(order_id, bot_id="bot-9", picked={mall.atlas: 1})
    row = Order.objects.get(order_id=order_id)
    assert (row.status, row.product_ids, row.store_ids, row.total) == ("ready", [mall.atlas], [mall.books], D("25.00"))


def test_names_are_read_through_the_facades_when_the_caches_are_empty():
    mall = a_day_at_the_mall()
    for model in (CustomerCache, StoreCache, ProductCache):
        model.objects.all().delete()
    order_id = checkout(mall.ann, [(mall.atlas, 1)])
    deliver_all()
    row = selectors.find_order(order_id)
    assert (row.customer_name, row.items[0]["product_name"], row.items[0]["store_name"]) == ("Ann", "World Atlas",
                                                                                             "Books")
    assert CustomerCache.objects.get(id=mall.ann).version == 2
    assert ProductCache.objects.get(id=mall.atlas).name == "World Atlas"


def test_a_later_event_for_a_missing_row_is_retried_until_the_order_exists():
    with pytest.raises(RetryLater):
        with transaction.atomic():
            deliver("search-orders", ordering_contracts.OrderApproved(id="o-1", customer_id="c1"), version=2)
    assert not Order.objects.exists()
    deliver("search-orders", ordering_contracts.OrderCreated(id="o-1", customer_id="c1", items=(
        ordering_contracts.OrderItem(product_id="p1", store_id="s1", price=D("2.50"), quantity=4),)), version=1)
    deliver("search-orders", ordering_contracts.OrderApproved(id="o-1", customer_id="c1"), version=2,
            occurred="2026-11-22T10:05:00.000000Z")
    row = Order.objects.get(order_id="o-1")
    assert (row.status, row.version, row.total, row.customer_name) == ("approved", 2, D("10.00"), "")
    assert codec.format_timestamp(row.updated_at) == "2026-11-22T10:05:00.000000Z"
    assert codec.format_timestamp(row.created_at) == "2026-11-22T10:00:00.000000Z"


def test_stale_events_change_nothing_but_a_late_readied_still_brings_the_delivered_items():
    item = ordering_contracts.OrderItem(product_id="p1", store_id="s1", price=D("2.50"), quantity=4)
    deliver("search-orders", ordering_contracts.OrderCreated(id="o-1", customer_id="c1", items=(item,)), version=1)
    deliver("search-orders", ordering_contracts.OrderCompleted(id="o-1"), version=6,
            occurred="2026-11-22T11:00:00.000000Z")
    deliver("search-orders", ordering_contracts.OrderStarted(id="o-1"), version=3)
    deliver("search-orders", ordering_contracts.OrderReadied(
        id="o-1", total=D("5.00"), items=(ordering_contracts.OrderItem(product_id="p1", store_id="s1",
                                                                       price=D("2.50"), quantity=2),)), version=5)
    row = Order.objects.get(order_id="o-1")
    assert (row.status, row.version, row.total, row.items[0]["quantity"]) == ("completed", 6, D("5.00"), 2)
    assert codec.format_timestamp(row.updated_at) == "2026-11-22T11:00:00.000000Z"
    deliver("search-orders", ordering_contracts.OrderCreated(id="o-1", customer_id="c2", items=()), version=1)
    assert Order.objects.get(order_id="o-1").customer_id == "c1"


def test_cache_version_guards_and_tombstones():
    deliver("search-stores", stores_contracts.StoreRebranded(id="s1", name="New"), version=3,
            aggregate_type="stores.Store")
    assert not StoreCache.objects.exists()
    deliver("search-stores", stores_contracts.StoreCreated(id="s1", name="Old", location="L1"), version=1,
            aggregate_type="stores.Store")
    deliver("search-stores", stores_contracts.StoreRebranded(id="s1", name="New"), version=3,
            aggregate_type="stores.Store")
    deliver("search-stores", stores_contracts.StoreRebranded(id="s1", name="Stale"), version=2,
            aggregate_type="stores.Store")
    assert (StoreCache.objects.get(id="s1").name, StoreCache.objects.get(id="s1").version) == ("New", 3)

    deliver("search-products", stores_contracts.ProductAdded(id="p1", store_id="s1", name="Kite", description="",
                                                             sku="", price=D("1")), version=1,
            aggregate_type="stores.Product")
    deliver("search-products", stores_contracts.ProductRemoved(id="p1"), version=3, aggregate_type="stores.Product")
    deliver("search-products", stores_contracts.ProductRebranded(id="p1", name="Late", description=""), version=2,
            aggregate_type="stores.Product")
    product = ProductCache.objects.get(id="p1")
    assert (product.name, product.removed, product.version) == ("Kite", True, 3)
    assert caches.product_name("p1") == "Kite"
    deliver("search-products", stores_contracts.ProductRemoved(id="p2"), version=2, aggregate_type="stores.Product")
    assert ProductCache.objects.get(id="p2").removed

    deliver("search-customers", customers_contract_registered("c1", "Ann"), version=1,
            aggregate_type="customers.Customer")
    assert CustomerCache.objects.get(id="c1").name == "Ann"


def customers_contract_registered(customer_id: str, name: str):
    from customers.contracts import CustomerRegistered

    return CustomerRegistered(id=customer_id, name=name, sms_number="555")


def test_a_new_order_reads_whether_it_exists_and_what_the_caches_hold_in_one_statement():
    CustomerCache.objects.create(id="c-1", name="Ann", version=1)
    StoreCache.objects.create(id="s-1", name="Books", version=1)
    ProductCache.objects.create(id="p-1", store_id="s-1", name="World Atlas", version=1)
    ProductCache.objects.create(id="p-2", store_id="s-1", name="Road Map", version=1)
    created = ordering_contracts.OrderCreated(id=str(uuid.uuid4()), customer_id="c-1", payment_id="pay-1", items=(
        ordering_contracts.OrderItem(product_id="p-1", store_id="s-1", price=Decimal("9.99"), quantity=2),
        ordering_contracts.OrderItem(product_id="p-2", store_id="s-1", price=Decimal("1.50"), quantity=1)))
    with sent() as messages:
        deliver("search-orders", created, version=1)
    assert [kind for kind, _ in messages] == ["Query", "Query"]
    assert "SELECT EXISTS" in messages[0][1] and messages[1][1].startswith("INSERT INTO search_order")
    row = selectors.find_order(created.id)
    assert (row.customer_name, [i["product_name"] for i in row.items], row.total) == (
        "Ann", ["World Atlas", "Road Map"], Decimal("21.48"))


@pytest.mark.parametrize("first", ["search-orders", "search-products"])
def test_items_carry_the_current_names_whichever_durable_takes_its_message_first(first):
    """ADR 34: a rebrand committed after an order, taken by ``search-products`` before or after
    ``search-orders`` takes the order; the order shows the new name either way, as a rebuild does."""
    from eventstore.models import OutboxMessage
    from eventstore.testing import envelope_of
    from stores import services as stores_services

    mall = a_day_at_the_mall()
    order_id = checkout(mall.ann, [(mall.novel, 1)])
    created = OutboxMessage.objects.filter(published_at__isnull=True, name="ordersapi.OrderCreated")
    deliver_all(until=created.exists)
    stores_services.rebrand_product(product_id=mall.novel, name="Paperback", description="")
    named = {"search-orders": "ordersapi.OrderCreated", "search-products": "storesapi.ProductRebranded"}
    for durable in (first, *(d for d in named if d != first)):
        outbox_row = OutboxMessage.objects.filter(published_at__isnull=True, name=named[durable]).get()
        handle(get_durable(durable), envelope_of(outbox_row))
    deliver_all()
    assert [i["product_name"] for i in selectors.find_order(order_id).items] == ["Paperback"]
    live = list(Order.objects.order_by("order_id").values())

    projections.rebuild("search")

    assert list(Order.objects.order_by("order_id").values()) == live
