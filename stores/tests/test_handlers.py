"""Projections, outbox translation (events.md §4.1–4.2, §9) and the query facade of stores."""

import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from eventstore import registry
from eventstore.envelope import Envelope
from eventstore.errors import ConcurrencyError, DomainError, NotFound
from eventstore.models import OutboxMessage, Snapshot, StoredEvent
from stores import models, public, services
from stores.public import ProductInfo, StoreInfo

pytestmark = pytest.mark.django_db

STORE_SUBJECT = "mallbots.stores.events.Store"
PRODUCT_SUBJECT = "mallbots.stores.events.Product"


class Outbox:
    """Outbox rows written since the last call: (name, subject, payload, aggregate metadata)."""

    def __init__(self):
        self.seen = 0

    def new(self) -> list[tuple]:
        rows = list(OutboxMessage.objects.filter(position__gt=self.seen).order_by("position"))
        if rows:
            self.seen = rows[-1].position
        return [(r.name, r.subject, r.payload, {k: r.metadata[k] for k in
                 ("aggregate_type", "aggregate_id", "aggregate_version")}) for r in rows]


@pytest.fixture
def outbox():
    return Outbox()


def meta(kind, id, version):
    return {"aggregate_type": kind, "aggregate_id": id, "aggregate_version": version}


def test_store_commands_write_exactly_their_integration_events(outbox):
    store_id = services.create_store(name=" Shop ", location=" Floor 1 ")
    assert outbox.new() == [("storesapi.StoreCreated", STORE_SUBJECT,
                             {"id": store_id, "name": "Shop", "location": "Floor 1"},
                             meta("stores.Store", store_id, 1))]
    services.rebrand_store(store_id=store_id, name=" Shop")
    assert outbox.new() == []
    services.rebrand_store(store_id=store_id, name="Renamed")
    assert outbox.new() == [("storesapi.StoreRebranded", STORE_SUBJECT, {"id": store_id, "name": "Renamed"},
                             meta("stores.Store", store_id, 2))]
    services.disable_participation(store_id=store_id)
    services.enable_participation(store_id=store_id)
    assert outbox.new() == [
        ("storesapi.StoreParticipationToggled", STORE_SUBJECT, {"id": store_id, "participating": False},
         meta("stores.Store", store_id, 3)),
        ("storesapi.StoreParticipationToggled", STORE_SUBJECT, {"id": store_id, "participating": True},
         meta("stores.Store", store_id, 4)),
    ]


def test_product_commands_write_exactly_their_integration_events(outbox):
    store_id = services.create_store(name="Shop", location="F1")
    outbox.new()
    product_id = services.add_product(store_id=store_id, name="Tea", description="Green", sku="T1",
                                      price=Decimal("9.99"))
    assert outbox.new() == [("storesapi.ProductAdded", PRODUCT_SUBJECT,
                             {"id": product_id, "store_id": store_id, "name": "Tea", "description": "Green",
                              "sku": "T1", "price": Decimal("9.99")}, meta("stores.Product", product_id, 1))]
    services.rebrand_product(product_id=product_id, name="Tea", description="Green")
    services.increase_product_price(product_id=product_id, price=Decimal("9.99"))
    services.decrease_product_price(product_id=product_id, price=Decimal("9.990"))
    assert outbox.new() == []
    services.rebrand_product(product_id=product_id, name="Tea", description="Black")
    services.increase_product_price(product_id=product_id, price=Decimal("12.49"))
    services.decrease_product_price(product_id=product_id, price=Decimal("2"))
    services.remove_product(product_id=product_id)
    assert outbox.new() == [
        ("storesapi.ProductRebranded", PRODUCT_SUBJECT, {"id": product_id, "name": "Tea", "description": "Black"},
         meta("stores.Product", product_id, 2)),
        ("storesapi.ProductPriceIncreased", PRODUCT_SUBJECT,
         {"id": product_id, "delta": Decimal("2.50"), "price": Decimal("12.49")},
         meta("stores.Product", product_id, 3)),
        ("storesapi.ProductPriceDecreased", PRODUCT_SUBJECT,
         {"id": product_id, "delta": Decimal("-10.49"), "price": Decimal("2.00")},
         meta("stores.Product", product_id, 4)),
        ("storesapi.ProductRemoved", PRODUCT_SUBJECT, {"id": product_id}, meta("stores.Product", product_id, 5)),
    ]


def test_refused_commands_write_no_event_and_no_outbox_row(outbox):
    store_id = services.create_store(name="Shop", location="F1")
    outbox.new()
    events = StoredEvent.objects.count()
    with pytest.raises(DomainError):
        services.enable_participation(store_id=store_id)
    with pytest.raises(DomainError):
        services.create_store(name="Shop", location="")
    with pytest.raises(NotFound) as missing:
        services.add_product(store_id=str(uuid.uuid4()), name="Tea", description="", sku="", price=Decimal(1))
    assert missing.value.message == "store not found"
    assert outbox.new() == [] and StoredEvent.objects.count() == events


def test_stored_events_carry_the_events_md_payloads():
    store_id = services.create_store(name="Shop", location="F1")
    product_id = services.add_product(store_id=store_id, name="Tea", description="", sku="", price=Decimal("1"))
    services.increase_product_price(product_id=product_id, price=Decimal("1.5"))
    rows = [(r.stream_type, r.version, r.event_name, r.payload) for r in
            StoredEvent.objects.filter(stream_id__in=[store_id, product_id]).order_by("global_position")]
    assert rows == [
        ("stores.Store", 1, "stores.StoreCreated", {"name": "Shop", "location": "F1", "participating": True}),
        ("stores.Product", 1, "stores.ProductAdded",
         {"store_id": store_id, "name": "Tea", "description": "", "sku": "", "price": Decimal("1.00")}),
        ("stores.Product", 2, "stores.ProductPriceIncreased", {"delta": Decimal("0.50"), "price": Decimal("1.50")}),
    ]


def test_projections_keep_the_aggregate_version_and_state():
    store_id = services.create_store(name="Shop", location="F1")
    services.disable_participation(store_id=store_id)
    services.rebrand_store(store_id=store_id, name="New")
    product_id = services.add_product(store_id=store_id, name="Tea", description="d", sku="k", price=Decimal("3"))
    services.remove_product(product_id=product_id)
    store = models.Store.objects.get(pk=store_id)
    product = models.Product.objects.get(pk=product_id)
    assert (store.name, store.location, store.participating, store.version) == ("New", "F1", False, 3)
    assert (product.store_id, product.price, product.removed, product.version) == (store_id, Decimal("3.00"), True, 2)


def test_public_facade_returns_frozen_dataclasses():
    store_id = services.create_store(name="Shop", location="F1")
    product_id = services.add_product(store_id=store_id, name="Tea", description="d", sku="k", price=Decimal("3.1"))
    services.remove_product(product_id=product_id)
    assert public.find_store(store_id) == StoreInfo(id=store_id, name="Shop", location="F1", participating=True,
                                                    version=1)
    assert public.find_product(product_id) == ProductInfo(id=product_id, store_id=store_id, name="Tea",
                                                          description="d", sku="k", price=Decimal("3.10"),
                                                          removed=True, version=2)
    assert public.list_stores() == [public.find_store(store_id)]
    for missing in (str(uuid.uuid4()), "", "x" * 65, "bad id"):
        assert public.find_store(missing) is None and public.find_product(missing) is None
    with pytest.raises(AttributeError):
        public.find_store(store_id).name = "changed"


def test_contracts_are_registered_and_rebuilt_from_envelopes():
    store_id = services.create_store(name="Shop", location="F1")
    product_id = services.add_product(store_id=store_id, name="Tea", description="", sku="", price=Decimal("0.10"))
    services.disable_participation(store_id=store_id)
    assert registry.message_type("storesapi.StoreParticipationToggled").subject == STORE_SUBJECT
    assert registry.message_type("storesapi.StoreParticipatingToggled") is None
    for row in OutboxMessage.objects.order_by("position"):
        envelope = Envelope(id=str(row.message_id), name=row.name, subject=row.subject, payload=row.payload,
                            metadata=row.metadata, sent_at="")
        message = Envelope.from_json(envelope.to_json()).message()
        assert message.id in (store_id, product_id)
        if row.name == "storesapi.ProductAdded":
            assert message.price == Decimal("0.10") and isinstance(message.price, Decimal)


def test_given_two_writers_of_one_product_then_the_second_gets_a_conflict():
    store_id = services.create_store(name="Shop", location="F1")
    product_id = services.add_product(store_id=store_id, name="Tea", description="", sku="", price=Decimal("5"))
    first, second = services.products.load(product_id), services.products.load(product_id)
    with transaction.atomic():
        first.increase_price(Decimal("6"))
        services.products.save(first)
    with pytest.raises(ConcurrencyError) as conflict, transaction.atomic():
        second.decrease_price(Decimal("4"))
        services.products.save(second)
    assert conflict.value.message == "the product was changed by another request"


def test_given_snapshots_when_loaded_then_state_equals_replay(settings):
    settings.EVENTSTORE_SNAPSHOT_EVERY = 2
    store_id = services.create_store(name="Shop", location="F1")
    product_id = services.add_product(store_id=store_id, name="Tea", description="", sku="", price=Decimal("5"))
    for price in ("6.10", "7", "8"):
        services.increase_product_price(product_id=product_id, price=Decimal(price))
    services.rebrand_store(store_id=store_id, name="New")
    product = services.products.load(product_id)
    assert StoredEvent.objects.filter(stream_id=product_id).count() == 4
    assert Snapshot.objects.get(stream_id=product_id).version == 4
    assert (product.version, product.price, str(product.price)) == (4, Decimal("8.00"), "8.00")
    services.decrease_product_price(product_id=product_id, price=Decimal("1"))
    assert models.Product.objects.get(pk=product_id).price == Decimal("1.00")
    assert services.stores.load(store_id).name == "New"
