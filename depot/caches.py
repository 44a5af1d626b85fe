"""The depot's copies of stores data (events.md §8): version guard, tombstones, facade fallback.

Rows keep the stores aggregate ``version``; an event changes a row only when its version is higher.
A removed product stays as a tombstone so late events cannot bring it back. A row that does not
exist yet is read through ``stores.public`` and inserted if still absent (concurrent inserts are
harmless). All functions run inside the caller's transaction.
"""

from __future__ import annotations

from depot.models import ProductCache, StoreCache
from eventstore import rows
from eventstore.ids import is_valid_id
from stores import public as stores_public


def store(store_id: str) -> StoreCache | None:
    """The cached store, read through the stores facade on a miss; ``None`` if unknown or malformed."""
    if not is_valid_id(store_id):
        return None
    row = rows.first(StoreCache, "id = %s", [store_id])
    if row is None:
        info = stores_public.find_store(store_id)
        if info is None:
            return None
        StoreCache.objects.bulk_create([StoreCache(id=info.id, name=info.name, location=info.location,
                                                   participating=info.participating, version=info.version)],
                                       ignore_conflicts=True)
        row = StoreCache.objects.get(id=store_id)
    return None if row.removed else row


def product(product_id: str) -> ProductCache | None:
    """The cached product, read through the stores facade on a miss; ``None`` if unknown, malformed or removed."""
    if not is_valid_id(product_id):
        return None
    row = rows.first(ProductCache, "id = %s", [product_id])
    if row is None:
        info = stores_public.find_product(product_id)
        if info is None:
            return None
        ProductCache.objects.bulk_create([ProductCache(id=info.id, store_id=info.store_id, name=info.name,
                                                       version=info.version, removed=info.removed)],
                                         ignore_conflicts=True)
        row = ProductCache.objects.get(id=product_id)
    return None if row.removed else row


def store_created(*, store_id: str, name: str, location: str, version: int) -> None:
    """Insert the store (participating), or update an older row."""
    fields = {"name": name, "location": location, "participating": True, "version": version}
    StoreCache.objects.bulk_create([StoreCache(id=store_id, **fields)], ignore_conflicts=True)
    StoreCache.objects.filter(id=store_id, version__lt=version, removed=False).update(**fields)


def store_changed(*, store_id: str, version: int, **fields) -> None:
    """Apply ``fields`` if ``version`` is newer than the row; a missing row is first read through the facade."""
    if not StoreCache.objects.filter(id=store_id).exists():
        store(store_id)
    StoreCache.objects.filter(id=store_id, version__lt=version, removed=False).update(version=version, **fields)


def product_added(*, product_id: str, store_id: str, name: str, version: int) -> None:
    """Insert the product, or update an older live row (a tombstone stays)."""
    ProductCache.objects.bulk_create([ProductCache(id=product_id, store_id=store_id, name=name, version=version)],
                                     ignore_conflicts=True)
    ProductCache.objects.filter(id=product_id, version__lt=version, removed=False).update(
        store_id=store_id, name=name, version=version)


def product_changed(*, product_id: str, version: int, **fields) -> None:
    """Apply ``fields`` to a live row if ``version`` is newer; a missing row is first read through the facade."""
    if not ProductCache.objects.filter(id=product_id).exists():
        product(product_id)
    ProductCache.objects.filter(id=product_id, version__lt=version, removed=False).update(version=version, **fields)


def product_removed(*, product_id: str, version: int) -> None:
    """Turn the row into a tombstone; a missing row becomes one (from the facade if it knows the product)."""
    if not ProductCache.objects.filter(id=product_id).exists():
        info = stores_public.find_product(product_id)
        ProductCache.objects.bulk_create([ProductCache(
            id=product_id, store_id=info.store_id if info else "", name=info.name if info else "",
            version=max(version, info.version if info else 0), removed=True)], ignore_conflicts=True)
    ProductCache.objects.filter(id=product_id, removed=False).update(removed=True)
    ProductCache.objects.filter(id=product_id, version__lt=version).update(version=version)
