"""Baskets' copies of stores data (events.md §8): store names/participation and product names/prices.

Rows keep the source aggregate's version; an event applies only if its version is higher. Removals
leave tombstones. A row that does not exist yet is read through ``stores.public`` and inserted
(insert-if-absent, so a concurrent writer's row wins and is then version-checked).
"""

from __future__ import annotations

from typing import Any

from baskets.models import ProductCache, StoreCache
from eventstore import rows
from eventstore.errors import RetryLater
from stores import public as stores_public


def _insert_store(info: stores_public.StoreInfo) -> None:
    StoreCache.objects.bulk_create([StoreCache(id=info.id, name=info.name, participating=info.participating,
                                               version=info.version)], ignore_conflicts=True)


def _insert_product(info: stores_public.ProductInfo) -> None:
    ProductCache.objects.bulk_create([ProductCache(id=info.id, store_id=info.store_id, name=info.name,
                                                   price=info.price, version=info.version, removed=info.removed)],
                                     ignore_conflicts=True)


def store(store_id: str) -> StoreCache | None:
    """The cached store, read through the stores facade on a miss; None if stores does not know it."""
    row = rows.first(StoreCache, "id = %s", [store_id])
    if row is None:
        info = stores_public.find_store(store_id)
        if info is None:
            return None
        _insert_store(info)
        row = StoreCache.objects.get(id=store_id)
    return row


def product(product_id: str) -> ProductCache | None:
    """The cached product (removed ones included), read through the stores facade on a miss."""
    row = rows.first(ProductCache, "id = %s", [product_id])
    if row is None:
        info = stores_public.find_product(product_id)
        if info is None:
            return None
        _insert_product(info)
        row = ProductCache.objects.get(id=product_id)
    return row



def product_with_store(product_id: str) -> tuple[ProductCache | None, StoreCache | None]:
    """The cached product (removed ones included) and its cached store, in one read when both are cached;
    each is read through the stores facade on a miss, as ``product`` and ``store`` do."""
    item, shop = rows.first_with_related(ProductCache, product_id, StoreCache, "store_id")
    if item is None:
        item = product(product_id)
    if item is not None and shop is None:
        shop = store(item.store_id)
    return item, shop


def _apply(model, row_id: str, version: int, changes: dict[str, Any], created: dict[str, Any] | None,
           read_through) -> None:
    """Apply ``changes`` to the row if ``version`` is newer than the row's (row locked meanwhile).

    A missing row is inserted from ``created`` (an event that carries the whole row) or else from the
    owner's facade (``read_through``); if the owner does not know the id yet, the message is retried.
    """
    row = model.objects.select_for_update().filter(id=row_id).first()
    if row is None:
        if created is not None:
            model.objects.bulk_create([model(id=row_id, version=version, **created)], ignore_conflicts=True)
        else:
            info = read_through(row_id)
            if info is None:
                raise RetryLater(f"{model._meta.verbose_name} {row_id} is not known to stores yet")
            (_insert_store if model is StoreCache else _insert_product)(info)
        row = model.objects.select_for_update().get(id=row_id)
    if version > row.version:
        for field, value in changes.items():
            setattr(row, field, value)
        row.version = version
        row.save(update_fields=[*changes, "version"])


def apply_store(store_id: str, version: int, changes: dict[str, Any], created: dict[str, Any] | None = None) -> None:
    _apply(StoreCache, store_id, version, changes, created, stores_public.find_store)


def apply_product(product_id: str, version: int, changes: dict[str, Any],
                  created: dict[str, Any] | None = None) -> None:
    _apply(ProductCache, product_id, version, changes, created, stores_public.find_product)
