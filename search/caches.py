"""Search's copies of customers and stores data (events.md §8): version guard, tombstones, facade fallback.

Rows keep the source aggregate ``version``; an event changes a row only when its version is higher. A
removed product stays as a tombstone whose name old orders still show. A row that does not exist yet is
read through the owner's ``public`` facade and inserted if still absent (concurrent inserts are harmless).
All functions run inside the caller's transaction.
"""

from __future__ import annotations

from django.db import connection

from customers import public as customers_public
from eventstore import rows
from search.models import CustomerCache, ProductCache, StoreCache
from stores import public as stores_public


def customer_name(customer_id: str) -> str:
    """The customer's name; read through the customers facade on a miss; ``""`` if unknown."""
    name = rows.value(CustomerCache, "name", "id = %s", [customer_id])
    if name is None:
        info = customers_public.find_customer(customer_id)
        if info is None:
            return ""
        CustomerCache.objects.bulk_create([CustomerCache(id=info.id, name=info.name, version=info.version)],
                                          ignore_conflicts=True)
        name = rows.value(CustomerCache, "name", "id = %s", [customer_id])
    return name


def store_name(store_id: str) -> str:
    """The store's name; read through the stores facade on a miss; ``""`` if unknown."""
    name = rows.value(StoreCache, "name", "id = %s", [store_id])
    if name is None:
        info = stores_public.find_store(store_id)
        if info is None:
            return ""
        StoreCache.objects.bulk_create([StoreCache(id=info.id, name=info.name, version=info.version)],
                                       ignore_conflicts=True)
        name = rows.value(StoreCache, "name", "id = %s", [store_id])
    return name


def product_name(product_id: str) -> str:
    """The product's name, also once removed; read through the stores facade on a miss; ``""`` if unknown."""
    name = rows.value(ProductCache, "name", "id = %s", [product_id])
    if name is None:
        info = stores_public.find_product(product_id)
        if info is None:
            return ""
        ProductCache.objects.bulk_create([ProductCache(id=info.id, store_id=info.store_id, name=info.name,
                                                       version=info.version, removed=info.removed)],
                                         ignore_conflicts=True)
        name = rows.value(ProductCache, "name", "id = %s", [product_id])
    return name


def names(model, ids: set[str], read_through) -> dict[str, str]:
    """{id: name} of the cached rows of ``model`` (one query), the missing ones through ``read_through(id)``."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, name FROM {model._meta.db_table} WHERE id = ANY(%s)", [sorted(ids)])
        found = dict(cursor.fetchall())
    return {**found, **{missing: read_through(missing) for missing in ids - set(found)}}


def store_names(store_ids: set[str]) -> dict[str, str]:
    return names(StoreCache, store_ids, store_name)


def product_names(product_ids: set[str]) -> dict[str, str]:
    return names(ProductCache, product_ids, product_name)


def customer_registered(*, customer_id: str, name: str, version: int) -> None:
    """Insert the customer, or update an older row."""
    CustomerCache.objects.bulk_create([CustomerCache(id=customer_id, name=name, version=version)],
                                      ignore_conflicts=True)
    CustomerCache.objects.filter(id=customer_id, version__lt=version).update(name=name, version=version)


def store_created(*, store_id: str, name: str, version: int) -> None:
    """Insert the store, or update an older row."""
    StoreCache.objects.bulk_create([StoreCache(id=store_id, name=name, version=version)], ignore_conflicts=True)
    StoreCache.objects.filter(id=store_id, version__lt=version).update(name=name, version=version)


def store_rebranded(*, store_id: str, name: str, version: int) -> None:
    """Rename if ``version`` is newer than the row; a missing row is first read through the facade."""
    if not StoreCache.objects.filter(id=store_id).exists():
        store_name(store_id)
    StoreCache.objects.filter(id=store_id, version__lt=version).update(name=name, version=version)


def product_added(*, product_id: str, store_id: str, name: str, version: int) -> None:
    """Insert the product, or update an older live row (a tombstone stays)."""
    ProductCache.objects.bulk_create([ProductCache(id=product_id, store_id=store_id, name=name, version=version)],
                                     ignore_conflicts=True)
    ProductCache.objects.filter(id=product_id, version__lt=version, removed=False).update(
        store_id=store_id, name=name, version=version)


def product_rebranded(*, product_id: str, name: str, version: int) -> None:
    """Rename a live row if ``version`` is newer; a missing row is first read through the facade."""
    if not ProductCache.objects.filter(id=product_id).exists():
        product_name(product_id)
    ProductCache.objects.filter(id=product_id, version__lt=version, removed=False).update(name=name, version=version)


def product_removed(*, product_id: str, version: int) -> None:
    """Turn the row into a tombstone (keeping its name); a missing row becomes one (from the facade if it
    knows the product)."""
    if not ProductCache.objects.filter(id=product_id).exists():
        info = stores_public.find_product(product_id)
        ProductCache.objects.bulk_create([ProductCache(
            id=product_id, store_id=info.store_id if info else "", name=info.name if info else "",
            version=max(version, info.version if info else 0), removed=True)], ignore_conflicts=True)
    ProductCache.objects.filter(id=product_id, removed=False).update(removed=True)
    ProductCache.objects.filter(id=product_id, version__lt=version).update(version=version)
