"""Store and catalog use cases (product.md F1, F2). Each runs in one transaction.

Every function loads one aggregate (``NotFound`` → 404 ``<thing> not found``), calls the domain
(``DomainError`` → 400) and saves it; projections and outbox rows are written in the same
transaction by ``stores.handlers``. A concurrent writer makes the save raise ``ConcurrencyError``.
"""

from __future__ import annotations

from decimal import Decimal

from eventstore.ids import new_id
from eventstore.repository import Repository
from eventstore.transactions import use_case
from stores.domain import Product, Store

stores = Repository(Store)
products = Repository(Product)


def create_store(*, name: str, location: str) -> str:
    """Create a participating store; returns its new id. Emits StoreCreated."""
    with use_case():
        store = Store.create(new_id(), name, location)
        stores.create(store)
    return store.id


def enable_participation(*, store_id: str) -> None:
    """Emits StoreParticipationEnabled (storesapi.StoreParticipationToggled)."""
    with use_case():
        store = stores.load(store_id)
        store.enable_participation()
        stores.save(store)


def disable_participation(*, store_id: str) -> None:
    """Emits StoreParticipationDisabled (storesapi.StoreParticipationToggled)."""
    with use_case():
        store = stores.load(store_id)
        store.disable_participation()
        stores.save(store)


def rebrand_store(*, store_id: str, name: str) -> None:
    """Emits StoreRebranded unless the name is unchanged."""
    with use_case():
        store = stores.load(store_id)
        store.rebrand(name)
        stores.save(store)


def add_product(*, store_id: str, name: str, description: str, sku: str, price: Decimal) -> str:
    """Add a product (its own aggregate, new id) to an existing store; returns the id. Emits ProductAdded."""
    with use_case():
        stores.load(store_id)
        product = Product.add(new_id(), store_id=store_id, name=name, description=description, sku=sku,
                              price=price)
        products.create(product)
    return product.id


def rebrand_product(*, product_id: str, name: str, description: str) -> None:
    """Emits ProductRebranded unless name and description are unchanged."""
    with use_case():
        product = products.load(product_id)
        product.rebrand(name, description)
        products.save(product)


def increase_product_price(*, product_id: str, price: Decimal) -> None:
    """Set a higher absolute price. Emits ProductPriceIncreased unless the price is unchanged."""
    with use_case():
        product = products.load(product_id)
        product.increase_price(price)
        products.save(product)


def decrease_product_price(*, product_id: str, price: Decimal) -> None:
    """Set a lower absolute price. Emits ProductPriceDecreased unless the price is unchanged."""
    with use_case():
        product = products.load(product_id)
        product.decrease_price(price)
        products.save(product)


def remove_product(*, product_id: str) -> None:
    """Take a product out of the catalog for good. Emits ProductRemoved; a removed product is not found."""
    with use_case():
        product = products.load(product_id)
        product.remove()
        products.save(product)
