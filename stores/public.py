"""Query facade of stores for other modules: frozen dataclasses read from the stores read models."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from eventstore.ids import is_valid_id
from stores import models


@dataclass(frozen=True)
class StoreInfo:
    id: str
    name: str
    location: str
    participating: bool
    version: int


@dataclass(frozen=True)
class ProductInfo:
    id: str
    store_id: str
    name: str
    description: str
    sku: str
    price: Decimal
    removed: bool
    version: int


def _store_info(row: models.Store) -> StoreInfo:
    return StoreInfo(id=row.id, name=row.name, location=row.location, participating=row.participating,
                     version=row.version)


def find_store(store_id: str) -> StoreInfo | None:
    """The store, or ``None`` for an unknown or malformed id."""
    if not is_valid_id(store_id):
        return None
    row = models.Store.objects.filter(id=store_id).first()
    return _store_info(row) if row else None


def find_product(product_id: str) -> ProductInfo | None:
    """The product, also when removed (``removed=True``); ``None`` for an unknown or malformed id."""
    if not is_valid_id(product_id):
        return None
    row = models.Product.objects.filter(id=product_id).first()
    if row is None:
        return None
    return ProductInfo(id=row.id, store_id=row.store_id, name=row.name, description=row.description, sku=row.sku,
                       price=row.price, removed=row.removed, version=row.version)


def list_stores() -> list[StoreInfo]:
    """All stores in creation order."""
    return [_store_info(row) for row in models.Store.objects.order_by("created_position")]
