"""Search's copies of customers and stores data (events.md §8) through ``eventstore.copies``: version guard,
tombstones (a removed product keeps the name old orders show), read-through of the owner's ``public`` facade
on a miss. All functions run inside the caller's transaction.
"""

from __future__ import annotations

from django.db import connection

from customers import public as customers_public
from eventstore import copies
from search.models import CustomerCache, ProductCache, StoreCache
from stores import public as stores_public


def _customer_row(customer_id: str) -> CustomerCache | None:
    info = customers_public.find_customer(customer_id)
    return None if info is None else CustomerCache(id=info.id, name=info.name, version=info.version)


def _store_row(store_id: str) -> StoreCache | None:
    info = stores_public.find_store(store_id)
    return None if info is None else StoreCache(id=info.id, name=info.name, version=info.version)


def _product_row(product_id: str) -> ProductCache | None:
    info = stores_public.find_product(product_id)
    return None if info is None else ProductCache(id=info.id, store_id=info.store_id, name=info.name,
                                                  version=info.version, removed=info.removed)


def customer_name(customer_id: str) -> str:
    """The customer's name; read through the customers facade on a miss; ``""`` if unknown."""
    return copies.read(CustomerCache, customer_id, _customer_row, column="name") or ""


def store_name(store_id: str) -> str:
    """The store's name; read through the stores facade on a miss; ``""`` if unknown."""
    return copies.read(StoreCache, store_id, _store_row, column="name") or ""


def product_name(product_id: str) -> str:
    """The product's name, also once removed; read through the stores facade on a miss; ``""`` if unknown."""
    return copies.read(ProductCache, product_id, _product_row, column="name") or ""


def names(model, ids: set[str], read_through) -> dict[str, str]:
    """{id: name} of the cached rows of ``model`` (one query), the missing ones through ``read_through(id)``."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, name FROM {model._meta.db_table} WHERE id = ANY(%s)", [sorted(ids)])
        found = dict(cursor.fetchall())
    return read_through_missing(found, ids, read_through)


def read_through_missing(found: dict[str, str], ids: set[str], read_through) -> dict[str, str]:
    """``found`` names plus, for each of ``ids`` it lacks, the name ``read_through(id)`` gives."""
    return {**found, **{missing: read_through(missing) for missing in ids - set(found)}}


NAMES_OF_ORDER = (
    f"ARRAY(SELECT ARRAY[id, name] FROM {ProductCache._meta.db_table} WHERE id = ANY(%s)),"
    f" ARRAY(SELECT ARRAY[id, name] FROM {StoreCache._meta.db_table} WHERE id = ANY(%s)),"
    f" (SELECT name FROM {CustomerCache._meta.db_table} WHERE id = %s)"
)
"""Select-list items giving the cached names of an order's products, stores and customer in one statement
(parameters: product ids, store ids, customer id); ``names_of_order`` completes what they lack."""


def names_of_order(products: list, stores: list, customer: str | None, *, product_ids: set[str],
                   store_ids: set[str], customer_id: str) -> tuple[dict[str, str], dict[str, str], str]:
    """The names ``NAMES_OF_ORDER`` found, completed through the owners' facades as ``names`` and
    ``customer_name`` do."""
    return (read_through_missing(dict(products), product_ids, product_name),
            read_through_missing(dict(stores), store_ids, store_name),
            customer if customer is not None else customer_name(customer_id))


def store_names(store_ids: set[str]) -> dict[str, str]:
    return names(StoreCache, store_ids, store_name)


def product_names(product_ids: set[str]) -> dict[str, str]:
    return names(ProductCache, product_ids, product_name)


def customer_registered(*, customer_id: str, name: str, version: int) -> None:
    """Insert the customer, or update an older row."""
    copies.upsert(CustomerCache, customer_id, version, name=name)


def store_created(*, store_id: str, name: str, version: int) -> None:
    """Insert the store, or update an older row."""
    copies.upsert(StoreCache, store_id, version, name=name)


def store_rebranded(*, store_id: str, name: str, version: int) -> None:
    """Rename if ``version`` is newer than the row; a missing row is first read through the facade."""
    copies.update(StoreCache, store_id, version, _store_row, name=name)


def product_added(*, product_id: str, store_id: str, name: str, version: int) -> None:
    """Insert the product, or update an older live row (a tombstone stays)."""
    copies.upsert(ProductCache, product_id, version, store_id=store_id, name=name)


def product_rebranded(*, product_id: str, name: str, version: int) -> None:
    """Rename a live row if ``version`` is newer; a missing row is first read through the facade."""
    copies.update(ProductCache, product_id, version, _product_row, name=name)


def product_removed(*, product_id: str, version: int) -> None:
    """Turn the row into a tombstone (keeping its name); a missing row becomes one (from the facade if it
    knows the product)."""
    copies.remove(ProductCache, product_id, version, _product_row)
