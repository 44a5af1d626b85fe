"""Baskets services, projections, outbox and the store/product caches fed by stores events (real PostgreSQL)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from baskets import models, public, services, tasks
from baskets.domain import Basket, ProductChoice
from baskets.models import ProductCache, StoreCache
from eventstore import codec, messaging
from eventstore.errors import DomainError, NotFound
from eventstore.models import InboxMessage, OutboxMessage, StoredEvent
from eventstore.repository import Repository
from eventstore.testing import capture_outbox, deliver_all, envelope_of
from stores import services as stores

pytestmark = pytest.mark.django_db
D = Decimal


def catalog(price="1.25", deliver=True):
    """A store with one product; its events delivered to the baskets caches unless ``deliver`` is False."""
    store_id = stores.create_store(name="Fruit", location="Floor 1")
    product_id = stores.add_product(store_id=store_id, name="Apple", description="red", sku="A1", price=D(price))
    if deliver:
        deliver_all(modules=["baskets"])
    return store_id, product_id


def envelopes(name):
    return [envelope_of(row) for row in OutboxMessage.objects.filter(name=name).order_by("position")]


def handle(durable, envelope):
    return messaging.handle(messaging.get_durable(durable), envelope)


def product_row(product_id):
    row = ProductCache.objects.get(id=product_id)
    return (row.store_id, row.name, row.price, row.version, row.removed)


def store_row(store_id):
    row = StoreCache.objects.get(id=store_id)
    return (row.name, row.participating, row.version, row.removed)


def basket_row(basket_id):
    row = models.Basket.objects.get(id=basket_id)
    items = [(i.product_id, i.store_name, i.product_name, i.price, i.quantity) for i in row.items.all()]
    return row.status, row.total, items


# ---------------------------------------------------------------- caches fed by stores events


def test_given_stores_events_when_delivered_then_caches_hold_store_and_product():
    store_id, product_id = catalog()
    assert store_row(store_id) == ("Fruit", True, 1, False)
    assert product_row(product_id) == (store_id, "Apple", D("1.25"), 1, False)


def test_rebrand_price_changes_and_participation_reach_the_caches():
    store_id, product_id = catalog()
    stores.rebrand_product(product_id=product_id, name="Green apple", description="green")
    stores.increase_product_price(product_id=product_id, price=D("2.00"))
    stores.decrease_product_price(product_id=product_id, price=D("1.80"))
    stores.rebrand_store(store_id=store_id, name="Fruit & Co")
    stores.disable_participation(store_id=store_id)
    deliver_all(modules=["baskets"])
    assert product_row(product_id) == (store_id, "Green apple", D("1.80"), 4, False)
    assert store_row(store_id) == ("Fruit & Co", False, 3, False)


def test_given_removed_product_when_added_to_basket_then_404_and_tombstone_kept():
    _, product_id = catalog()
    basket_id = services.start_basket(customer_id="c1")
    stores.remove_product(product_id=product_id)
    deliver_all(modules=["baskets"])
    assert product_row(product_id)[3:] == (2, True)
    with pytest.raises(NotFound) as refused:
        services.add_item(basket_id=basket_id, product_id=product_id, quantity=1)
    assert refused.value.message == "product not found"


def test_redelivering_the_same_stores_event_changes_nothing():
    _, product_id = catalog()
    stores.increase_product_price(product_id=product_id, price=D("3.00"))
    deliver_all(modules=["baskets"])
    [price_event] = envelopes("storesapi.ProductPriceIncreased")
    ProductCache.objects.filter(id=product_id).update(price=D("7.77"))
    assert handle("baskets-products", price_event) is messaging.Outcome.DUPLICATE
    assert ProductCache.objects.get(id=product_id).price == D("7.77")
    assert InboxMessage.objects.filter(consumer="baskets-products").count() == 2


def test_stale_events_delivered_out_of_order_are_ignored():
    store_id, product_id = catalog(deliver=False)
    stores.increase_product_price(product_id=product_id, price=D("2.00"))
    stores.rebrand_product(product_id=product_id, name="Pink lady", description="")
    [added] = envelopes("storesapi.ProductAdded")
    [increased] = envelopes("storesapi.ProductPriceIncreased")
    [rebranded] = envelopes("storesapi.ProductRebranded")
    assert handle("baskets-products", rebranded) is messaging.Outcome.HANDLED
    assert product_row(product_id) == (store_id, "Pink lady", D("2.00"), 3, False)
    ProductCache.objects.filter(id=product_id).update(name="marker")
    assert handle("baskets-products", added) is messaging.Outcome.HANDLED
    assert handle("baskets-products", increased) is messaging.Outcome.HANDLED
    assert product_row(product_id) == (store_id, "marker", D("2.00"), 3, False)


def test_late_product_added_cannot_resurrect_a_tombstone():
    _, product_id = catalog(deliver=False)
    stores.remove_product(product_id=product_id)
    [added] = envelopes("storesapi.ProductAdded")
    [removed] = envelopes("storesapi.ProductRemoved")
    handle("baskets-products", removed)
    handle("baskets-products", added)
    assert product_row(product_id)[1:] == ("Apple", D("1.25"), 2, True)


def test_update_for_unknown_store_row_reads_through_the_facade_then_applies_newer_events():
    store_id = stores.create_store(name="Shop", location="L1")
    stores.disable_participation(store_id=store_id)
    stores.rebrand_store(store_id=store_id, name="Shop 2")
    [toggled] = envelopes("storesapi.StoreParticipationToggled")
    handle("baskets-stores", toggled)
    assert store_row(store_id) == ("Shop 2", False, 3, False)
    deliver_all(modules=["baskets"])
    assert store_row(store_id) == ("Shop 2", False, 3, False)


def test_out_of_order_participation_toggles_keep_the_newest():
    store_id = stores.create_store(name="Shop", location="L1")
    stores.disable_participation(store_id=store_id)
    stores.enable_participation(store_id=store_id)
    created, = envelopes("storesapi.StoreCreated")
    disabled, enabled = envelopes("storesapi.StoreParticipationToggled")
    for envelope in (created, enabled, disabled):
        handle("baskets-stores", envelope)
    assert store_row(store_id) == ("Shop", True, 3, False)


# ---------------------------------------------------------------- basket use cases


def test_start_basket_projects_the_row_and_publishes_basket_started():
    with capture_outbox() as captured:
        basket_id = services.start_basket(customer_id=" c1 ")
    [message] = captured.messages
    assert (message.name, message.subject, message.payload) == (
        "basketsapi.BasketStarted", "mallbots.baskets.events.Basket", {"id": basket_id, "customer_id": "c1"})
    assert (message.metadata["aggregate_type"], message.metadata["aggregate_version"]) == ("baskets.Basket", 1)
    row = models.Basket.objects.get(id=basket_id)
    assert (row.customer_id, row.payment_id, row.status, row.total, row.version) == ("c1", "", "open", D("0"), 1)
    assert public.find_basket(basket_id).status == "open"


def test_add_item_on_cache_miss_reads_through_stores_and_inserts_the_cache_rows():
    store_id, product_id = catalog(deliver=False)
    basket_id = services.start_basket(customer_id="c1")
    with capture_outbox() as captured:
        services.add_item(basket_id=basket_id, product_id=product_id, quantity=2)
    assert captured.messages == []
    assert store_row(store_id) == ("Fruit", True, 1, False)
    assert product_row(product_id) == (store_id, "Apple", D("1.25"), 1, False)
    assert basket_row(basket_id) == ("open", D("2.50"), [(product_id, "Fruit", "Apple", D("1.25"), 2)])
    deliver_all(modules=["baskets"])
    assert product_row(product_id) == (store_id, "Apple", D("1.25"), 1, False)


def test_add_item_with_the_product_cached_and_its_store_not_reads_the_store_through():
    store_id, product_id = catalog()
    StoreCache.objects.filter(id=store_id).delete()
    basket_id = services.start_basket(customer_id="c1")
    services.add_item(basket_id=basket_id, product_id=product_id, quantity=1)
    assert store_row(store_id) == ("Fruit", True, 1, False)
    assert basket_row(basket_id) == ("open", D("1.25"), [(product_id, "Fruit", "Apple", D("1.25"), 1)])


def test_add_item_with_product_and_store_cached_reads_both_in_one_statement():
    store_id, product_id = catalog()
    basket_id = services.start_basket(customer_id="c1")
    with CaptureQueriesContext(connection) as captured:
        services.add_item(basket_id=basket_id, product_id=product_id, quantity=1)
    reads = [q["sql"] for q in captured.captured_queries if "_productcache" in q["sql"] or "_storecache" in q["sql"]]
    assert len(reads) == 1 and "LEFT JOIN baskets_storecache" in reads[0]


@pytest.mark.parametrize("product,error", [
    ("unknown", NotFound("product")), ("malformed", NotFound("product")), ("", NotFound("product")),
    ("store-missing", NotFound("store")),
])
def test_add_item_not_found_checks(product, error):
    basket_id = services.start_basket(customer_id="c1")
    product_id = {"unknown": "5b3cc0a1-0000-4000-8000-000000000000", "malformed": "bad id!", "": ""}.get(product)
    if product == "store-missing":
        product_id = "orphan"
        ProductCache.objects.create(id="orphan", store_id="no-such-store", name="x", price=D("1"), version=1)
    with pytest.raises(NotFound) as refused:
        services.add_item(basket_id=basket_id, product_id=product_id, quantity=1)
    assert refused.value.message == error.message


def test_unknown_basket_is_checked_before_the_product():
    with pytest.raises(NotFound) as refused:
        services.add_item(basket_id="no-such-basket", product_id="no-such-product", quantity=1)
    assert refused.value.message == "basket not found"


def test_store_taken_out_of_the_service_refuses_new_items():
    store_id, product_id = catalog()
    basket_id = services.start_basket(customer_id="c1")
    stores.disable_participation(store_id=store_id)
    deliver_all(modules=["baskets"])
    with pytest.raises(DomainError) as refused:
        services.add_item(basket_id=basket_id, product_id=product_id, quantity=1)
    assert refused.value.message == "the store is not participating"
    stores.enable_participation(store_id=store_id)
    deliver_all(modules=["baskets"])
    services.add_item(basket_id=basket_id, product_id=product_id, quantity=1)


def test_price_and_name_changes_do_not_affect_items_already_in_the_basket_and_checkout_carries_them():
    store_id, product_id = catalog(price="1.25")
    pear_id = stores.add_product(store_id=store_id, name="Pear", description="", sku="", price=D("2"))
    deliver_all(modules=["baskets"])
    basket_id = services.start_basket(customer_id="c1")
    services.add_item(basket_id=basket_id, product_id=product_id, quantity=2)
    services.add_item(basket_id=basket_id, product_id=pear_id, quantity=1)
    stores.increase_product_price(product_id=product_id, price=D("9.00"))
    stores.rebrand_product(product_id=product_id, name="Golden apple", description="")
    stores.rebrand_store(store_id=store_id, name="Fruit & Co")
    deliver_all(modules=["baskets"])
    services.add_item(basket_id=basket_id, product_id=product_id, quantity=1)
    services.remove_item(basket_id=basket_id, product_id=pear_id, quantity=1)
    assert basket_row(basket_id) == ("open", D("3.75"), [(product_id, "Fruit", "Apple", D("1.25"), 3)])
    with capture_outbox() as captured:
        services.checkout_basket(basket_id=basket_id, payment_id="pay-1")
    [message] = captured.messages
    assert (message.name, message.subject) == ("basketsapi.BasketCheckedOut", "mallbots.baskets.events.Basket")
    assert message.payload == {"id": basket_id, "customer_id": "c1", "payment_id": "pay-1", "items": [
        {"store_id": store_id, "product_id": product_id, "store_name": "Fruit", "product_name": "Apple",
         "price": D("1.25"), "quantity": 3}]}
    assert message.metadata["aggregate_version"] == 6
    row = models.Basket.objects.get(id=basket_id)
    assert (row.status, row.payment_id, row.version) == ("checked_out", "pay-1", 6)


def test_items_keep_first_added_order_in_the_read_model():
    store_id, apple = catalog()
    pear = stores.add_product(store_id=store_id, name="Pear", description="", sku="", price=D("2"))
    kiwi = stores.add_product(store_id=store_id, name="Kiwi", description="", sku="", price=D("0.5"))
    basket_id = services.start_basket(customer_id="c1")
    for product_id in (pear, apple, kiwi):
        services.add_item(basket_id=basket_id, product_id=product_id, quantity=1)
    services.remove_item(basket_id=basket_id, product_id=pear, quantity=5)
    services.add_item(basket_id=basket_id, product_id=pear, quantity=2)
    services.remove_item(basket_id=basket_id, product_id="not-in-basket", quantity=1)
    status, total, items = basket_row(basket_id)
    assert [i[0] for i in items] == [apple, kiwi, pear] and total == D("5.75")
    positions = list(models.BasketItem.objects.filter(basket_id=basket_id).order_by("position")
                     .values_list("product_id", "position"))
    assert [p for p, _ in positions] == [apple, kiwi, pear] and len({n for _, n in positions}) == 3
    loaded = Repository(Basket).load(basket_id)
    assert [line.product_id for line in loaded.lines] == [apple, kiwi, pear] and loaded.version == 6


def test_cancel_basket_clears_items_and_publishes_basket_canceled():
    _, product_id = catalog()
    basket_id = services.start_basket(customer_id="c1")
    services.add_item(basket_id=basket_id, product_id=product_id, quantity=2)
    with capture_outbox() as captured:
        services.cancel_basket(basket_id=basket_id)
    assert [(m.name, m.payload) for m in captured.messages] == [("basketsapi.BasketCanceled", {"id": basket_id})]
    assert basket_row(basket_id) == ("canceled", D("0"), [])
    assert StoredEvent.objects.get(stream_id=basket_id, version=3).payload == {"reason": "customer"}
    with pytest.raises(DomainError, match="the basket cannot be cancelled"):
        services.cancel_basket(basket_id=basket_id)


def test_remove_item_with_malformed_product_id_is_not_found_but_unknown_product_is_a_no_op():
    basket_id = services.start_basket(customer_id="c1")
    with pytest.raises(NotFound, match="product not found"):
        services.remove_item(basket_id=basket_id, product_id="", quantity=1)
    services.remove_item(basket_id=basket_id, product_id="gone-from-catalog", quantity=1)
    assert models.Basket.objects.get(id=basket_id).version == 1


def test_snapshots_rebuild_the_same_basket(settings):
    settings.EVENTSTORE_SNAPSHOT_EVERY = 3
    store_id, apple = catalog(price="1.10")
    pear = stores.add_product(store_id=store_id, name="Pear", description="", sku="", price=D("20"))
    basket_id = services.start_basket(customer_id="c1")
    for product_id in (apple, pear, apple, pear):
        services.add_item(basket_id=basket_id, product_id=product_id, quantity=1)
    loaded = Repository(Basket).load(basket_id)
    assert [(line.product_id, line.price, line.quantity) for line in loaded.lines] == [
        (apple, D("1.10"), 2), (pear, D("20.00"), 2)]
    assert loaded.total == D("42.20") == models.Basket.objects.get(id=basket_id).total


# ---------------------------------------------------------------- abandoned baskets


def test_expire_abandoned_cancels_only_baskets_idle_long_enough(settings):
    settings.BASKET_ABANDON_AFTER_MINUTES = 30
    _, product_id = catalog()
    idle = services.start_basket(customer_id="c1")
    busy = services.start_basket(customer_id="c2")
    done = services.start_basket(customer_id="c3")
    services.add_item(basket_id=done, product_id=product_id, quantity=1)
    services.checkout_basket(basket_id=done, payment_id="p")
    now = codec.utcnow()
    models.Basket.objects.filter(id__in=[idle, busy, done]).update(updated_at=now - dt.timedelta(hours=1))
    StoredEvent.objects.filter(stream_id__in=[idle, done]).update(occurred_at=now - dt.timedelta(minutes=31))
    with capture_outbox() as captured:
        assert tasks.expire_abandoned(now=now) == 1
    assert [(m.name, m.payload) for m in captured.messages] == [("basketsapi.BasketCanceled", {"id": idle})]
    assert StoredEvent.objects.get(stream_id=idle, version=2).payload == {"reason": "abandoned"}
    assert StoredEvent.objects.get(stream_id=idle, version=2).metadata["actor"] == "system"
    assert [models.Basket.objects.get(id=i).status for i in (idle, busy, done)] == ["canceled", "open", "checked_out"]
    assert tasks.expire_abandoned(now=now + dt.timedelta(hours=2)) == 1
    assert models.Basket.objects.get(id=busy).status == "canceled"


def test_expire_basket_counts_idle_time_from_the_latest_event(settings):
    settings.BASKET_ABANDON_AFTER_MINUTES = 30
    _, product_id = catalog()
    basket_id = services.start_basket(customer_id="c1")
    services.add_item(basket_id=basket_id, product_id=product_id, quantity=1)
    added = StoredEvent.objects.get(stream_id=basket_id, version=2).occurred_at
    StoredEvent.objects.filter(stream_id=basket_id, version=1).update(occurred_at=added - dt.timedelta(hours=3))
    assert not services.expire_basket(basket_id=basket_id, now=added + dt.timedelta(minutes=30, microseconds=-1))
    assert models.Basket.objects.get(id=basket_id).status == "open"
    assert services.expire_basket(basket_id=basket_id, now=added + dt.timedelta(minutes=30))
    assert models.Basket.objects.get(id=basket_id).status == "canceled"
    assert not services.expire_basket(basket_id=basket_id, now=added + dt.timedelta(days=1))


def choice(product_id, name, price):
    return ProductChoice(store_id="s", product_id=product_id, store_name="Fruit", product_name=name, price=D(price),
                         store_participating=True)


def test_one_save_with_several_line_events_projects_the_final_lines_in_first_added_order():
    store_id, apple = catalog()
    pear = stores.add_product(store_id=store_id, name="Pear", description="", sku="P1", price=D("2.00"))
    deliver_all(modules=["baskets"])
    basket_id = services.start_basket(customer_id="c-1")
    services.add_item(basket_id=basket_id, product_id=pear, quantity=1)
    services.remove_item(basket_id=basket_id, product_id=pear, quantity=1)
    baskets = Repository(Basket)
    with transaction.atomic():
        basket = baskets.load(basket_id)
        basket.add_item(choice(apple, "Apple", "1.25"), 2)
        basket.add_item(choice(pear, "Pear", "2.00"), 3)
        basket.add_item(choice(apple, "Apple", "1.25"), 3)
        basket.remove_item(apple, 1)
        baskets.save(basket)

    assert basket_row(basket_id) == ("open", D("11.00"), [
        (apple, "Fruit", "Apple", D("1.25"), 4), (pear, "Fruit", "Pear", D("2.00"), 3)])
