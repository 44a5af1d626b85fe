"""Store and catalog use cases (product.md F1, F2). Each runs in one transaction.

Every function loads one aggregate (``NotFound`` → 404 ``<thing> not found``), checks the caller's store
membership when ``member`` is given (``Forbidden`` → 403 ``permission denied``: store staff change only
their stores; ``None`` for store admins), calls the domain (``DomainError`` → 400) and saves it;
projections and outbox rows are written in the same transaction by ``stores.handlers``. A concurrent
writer makes the save raise ``ConcurrencyError``.
"""

from __future__ import annotations

from decimal import Decimal

from eventstore.errors import Forbidden, NotFound
from eventstore.ids import new_id
from eventstore.repository import Repository
from eventstore.transactions import use_case
from stores.domain import Product, Store
from stores.models import StoreMember

stores = Repository(Store)
products = Repository(Product)


def _check_member(store_id: str, member: int | None) -> None:
    if member is not None and not StoreMember.objects.filter(store_id=store_id, user_id=member).exists():
        raise Forbidden()


def _product_for(product_id: str, member: int | None) -> Product:
    """The product: 404 if unknown or removed, then 403 unless ``member`` may change its store."""
    product = products.load(product_id)
    if product.removed:
        raise NotFound(Product.thing)
    _check_member(product.store_id, member)
    return product


def create_store(*, name: str, location: str, creator: int | None = None) -> str:
    """Create a participating store; returns its new id. Emits StoreCreated. The ``creator`` user (a staff
    user id) becomes a member of it."""
    with use_case():
        store = Store.create(new_id(), name, location)
        stores.create(store)
        if creator is not None:
            StoreMember.objects.create(store_id=store.id, user_id=creator)
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


def rebrand_store(*, store_id: str, name: str, member: int | None = None) -> None:
    """Emits StoreRebranded unless the name is unchanged."""
    with use_case():
        store = stores.load(store_id)
        _check_member(store.id, member)
        store.rebrand(name)
        stores.save(store)


def add_product(*, store_id: str, name: str, description: str, sku: str, price: Decimal,
                member: int | None = None) -> str:
    """Add a product (its own aggregate, new id) to an existing store; returns the id. Emits ProductAdded."""
    with use_case():
        stores.load(store_id)
        _check_member(store_id, member)
        product = Product.add(new_id(), store_id=store_id, name=name, description=description, sku=sku,
                              price=price)
        products.create(product)
    return product.id


def rebrand_product(*, product_id: str, name: str, description: str, member: int | None = None) -> None:
    """Emits ProductRebranded unless name and description are unchanged."""
    with use_case():
        product = _product_for(product_id, member)
        product.rebrand(name, description)
        products.save(product)


def increase_product_price(*, product_id: str, price: Decimal, member: int | None = None) -> None:
    """Set a higher absolute price. Emits ProductPriceIncreased unless the price is unchanged."""
    with use_case():
        product = _product_for(product_id, member)
        product.increase_price(price)
        products.save(product)


def decrease_product_price(*, product_id: str, price: Decimal, member: int | None = None) -> None:
    """Set a lower absolute price. Emits ProductPriceDecreased unless the price is unchanged."""
    with use_case():
        product = _product_for(product_id, member)
        product.decrease_price(price)
        products.save(product)


def remove_product(*, product_id: str, member: int | None = None) -> None:
    """Take a product out of the catalog for good. Emits ProductRemoved; a removed product is not found."""
    with use_case():
        product = _product_for(product_id, member)
        product.remove()
        products.save(product)
