"""Store and Product state machines (product.md §6.1–6.2): every transition and error text."""

from decimal import Decimal

import pytest

from eventstore.errors import DomainError, NotFound
from stores.domain import (
    Product, ProductAdded, ProductPriceDecreased, ProductPriceIncreased, ProductRebranded, ProductRemoved, Store,
    StoreCreated, StoreParticipationDisabled, StoreParticipationEnabled, StoreRebranded,
)

D = Decimal


def given_store(*, participating=True) -> Store:
    store = Store("s-1")
    store.apply(StoreCreated(store_name="Shop", location="Floor 1", participating=True))
    if not participating:
        store.apply(StoreParticipationDisabled())
    return store


def given_product(*, removed=False, price="10.00") -> Product:
    product = Product("p-1")
    product.apply(ProductAdded(store_id="s-1", product_name="Tea", description="Green", sku="T1", price=D(price)))
    if removed:
        product.apply(ProductRemoved())
    return product


STORE_CASES = [
    ("create trims and participates", lambda: Store.create("s-1", "  Shop ", " Floor 1 "),
     [StoreCreated(store_name="Shop", location="Floor 1", participating=True)]),
    ("enable when not participating", lambda: _run(given_store(participating=False), "enable_participation"),
     [StoreParticipationEnabled()]),
    ("disable when participating", lambda: _run(given_store(), "disable_participation"),
     [StoreParticipationDisabled()]),
    ("rebrand participating", lambda: _run(given_store(), "rebrand", " New "), [StoreRebranded(store_name="New")]),
    ("rebrand not participating", lambda: _run(given_store(participating=False), "rebrand", "New"),
     [StoreRebranded(store_name="New")]),
    ("rebrand to the same name is a no-op", lambda: _run(given_store(), "rebrand", "  Shop  "), []),
]

STORE_ERRORS = [
    ("create with blank name", lambda: Store.create("s", "  ", " "), "the store name cannot be blank"),
    ("create with blank location", lambda: Store.create("s", "Shop", " \t"), "the store location cannot be blank"),
    ("enable when participating", lambda: given_store().enable_participation(), "the store is already participating"),
    ("disable when not participating", lambda: given_store(participating=False).disable_participation(),
     "the store is already not participating"),
    ("rebrand blank", lambda: given_store().rebrand("   "), "the store name cannot be blank"),
]


def _run(aggregate, command, *args):
    getattr(aggregate, command)(*args)
    return aggregate


@pytest.mark.parametrize("case,command,events", STORE_CASES, ids=[c[0] for c in STORE_CASES])
def test_given_store_when_command_then_events(case, command, events):
    assert command().pending == events


@pytest.mark.parametrize("case,command,text", STORE_ERRORS, ids=[c[0] for c in STORE_ERRORS])
def test_given_store_when_refused_then_error_text(case, command, text):
    with pytest.raises(DomainError) as refused:
        command()
    assert refused.value.message == text


def test_given_store_events_when_replayed_then_state_follows():
    store = given_store(participating=False)
    store.apply(StoreParticipationEnabled())
    store.apply(StoreRebranded(store_name="Renamed"))
    assert (store.name, store.location, store.participating) == ("Renamed", "Floor 1", True)


PRODUCT_CASES = [
    ("add trims text and rounds money", lambda: Product.add("p-1", store_id="s-1", name=" Tea ", description=" d ",
                                                            sku=" T1 ", price=D("21.689999999999998")),
     [ProductAdded(store_id="s-1", product_name="Tea", description="d", sku="T1", price=D("21.69"))]),
    ("add with blank description and sku and zero price",
     lambda: Product.add("p-1", store_id="s-1", name="Tea", description=" ", sku="", price=D("0")),
     [ProductAdded(store_id="s-1", product_name="Tea", description="", sku="", price=D("0.00"))]),
    ("rebrand name", lambda: _run(given_product(), "rebrand", "Black tea", "Green"),
     [ProductRebranded(product_name="Black tea", description="Green")]),
    ("rebrand description only", lambda: _run(given_product(), "rebrand", "Tea", "Loose"),
     [ProductRebranded(product_name="Tea", description="Loose")]),
    ("rebrand unchanged is a no-op", lambda: _run(given_product(), "rebrand", " Tea ", " Green "), []),
    ("increase price", lambda: _run(given_product(), "increase_price", D("12.50")),
     [ProductPriceIncreased(delta=D("2.50"), price=D("12.50"))]),
    ("increase to the same price is a no-op", lambda: _run(given_product(), "increase_price", D("10")), []),
    ("decrease price", lambda: _run(given_product(), "decrease_price", D("7.25")),
     [ProductPriceDecreased(delta=D("-2.75"), price=D("7.25"))]),
    ("decrease to zero", lambda: _run(given_product(), "decrease_price", D("0")),
     [ProductPriceDecreased(delta=D("-10.00"), price=D("0.00"))]),
    ("decrease to the same price is a no-op", lambda: _run(given_product(), "decrease_price", D("10.00")), []),
    ("remove", lambda: _run(given_product(), "remove"), [ProductRemoved()]),
]

PRODUCT_ERRORS = [
    ("add blank name", lambda: Product.add("p", store_id="s", name=" ", description="", sku="", price=D("-1")),
     "initializing product: the product name cannot be blank"),
    ("add negative price", lambda: Product.add("p", store_id="s", name="Tea", description="", sku="", price=D("-0.01")),
     "initializing product: the product price cannot be negative"),
    ("rebrand blank name", lambda: given_product().rebrand("  ", "x"), "the product name cannot be blank"),
    ("increase to a lower price", lambda: given_product().increase_price(D("9.99")),
     "the price change would be a decrease"),
    ("increase to a negative price", lambda: given_product().increase_price(D("-1")),
     "the price change would be a decrease"),
    ("decrease to a higher price", lambda: given_product().decrease_price(D("10.01")),
     "the price change would be an increase"),
    ("decrease to a negative price", lambda: given_product().decrease_price(D("-0.01")),
     "the product price cannot be negative"),
]


@pytest.mark.parametrize("case,command,events", PRODUCT_CASES, ids=[c[0] for c in PRODUCT_CASES])
def test_given_product_when_command_then_events(case, command, events):
    assert command().pending == events


@pytest.mark.parametrize("case,command,text", PRODUCT_ERRORS, ids=[c[0] for c in PRODUCT_ERRORS])
def test_given_product_when_refused_then_error_text(case, command, text):
    with pytest.raises(DomainError) as refused:
        command()
    assert refused.value.message == text


@pytest.mark.parametrize("command,args", [
    ("rebrand", ("New", "")), ("increase_price", (D("20"),)), ("decrease_price", (D("1"),)), ("remove", ()),
])
def test_given_removed_product_when_any_command_then_product_not_found(command, args):
    with pytest.raises(NotFound) as missing:
        getattr(given_product(removed=True), command)(*args)
    assert missing.value.message == "product not found"


@pytest.mark.parametrize("event,payload", [
    (StoreCreated(store_name="Shop", location="F1", participating=True),
     {"name": "Shop", "location": "F1", "participating": True}),
    (StoreRebranded(store_name="New"), {"name": "New"}),
    (StoreParticipationEnabled(), {}),
    (StoreParticipationDisabled(), {}),
    (ProductAdded(store_id="s", product_name="Tea", description="d", sku="k", price=D("1.50")),
     {"store_id": "s", "name": "Tea", "description": "d", "sku": "k", "price": D("1.50")}),
    (ProductRebranded(product_name="Tea", description="d"), {"name": "Tea", "description": "d"}),
    (ProductPriceIncreased(delta=D("1.00"), price=D("2.50")), {"delta": D("1.00"), "price": D("2.50")}),
    (ProductPriceDecreased(delta=D("-1.00"), price=D("0.50")), {"delta": D("-1.00"), "price": D("0.50")}),
    (ProductRemoved(), {}),
])
def test_stored_payloads_match_events_md_and_round_trip(event, payload):
    assert event.to_payload() == payload
    assert type(event).from_payload(payload) == event


def test_event_names_follow_events_md():
    names = [cls.name for cls in (StoreCreated, StoreParticipationEnabled, StoreParticipationDisabled, StoreRebranded,
                                  ProductAdded, ProductRebranded, ProductPriceIncreased, ProductPriceDecreased,
                                  ProductRemoved)]
    assert names == ["stores.StoreCreated", "stores.StoreParticipationEnabled", "stores.StoreParticipationDisabled",
                     "stores.StoreRebranded", "stores.ProductAdded", "stores.ProductRebranded",
                     "stores.ProductPriceIncreased", "stores.ProductPriceDecreased", "stores.ProductRemoved"]
    assert (Store.snapshot_name, Product.snapshot_name) == ("stores.StoreV1", "stores.ProductV1")
