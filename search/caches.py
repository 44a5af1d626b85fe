"""Search's copies of customers and stores data (events.md §8) through ``eventstore.copies``: version guard,
tombstones (a removed product keeps the name old orders show), read-through of the owner's ``public`` facade
on a miss. Every event of the owners' streams advances a row's version, also one that changes nothing kept
here, so a row read through a facade (the owner's current version) and one built from the events agree
(ADR 34). All functions run inside the caller's transaction.
"""

from __future__ import annotations

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


KNOWN_FOR_ORDER = (
    f"ARRAY(SELECT id FROM {ProductCache._meta.db_table} WHERE id = ANY(%s)),"
    f" ARRAY(SELECT id FROM {StoreCache._meta.db_table} WHERE id = ANY(%s)),"
    f" (SELECT name FROM {CustomerCache._meta.db_table} WHERE id = %s)"
)
"""Select-list items giving which of an order's products and stores the caches hold, and the customer's cached
name, in one statement (parameters: product ids, store ids, customer id); ``complete_for_order`` reads the rest."""


def complete_for_order(known_products: list[str], known_stores: list[str], customer: str | None, *,
                       product_ids: set[str], store_ids: set[str], customer_id: str) -> str:
    """Read the order's products and stores that ``KNOWN_FOR_ORDER`` did not find through the facades into the
    caches, so the search API can name them (ADR 34); returns the customer's name (read through on a miss)."""
    for product_id in sorted(product_ids - set(known_products)):
        product_name(product_id)
    for store_id in sorted(store_ids - set(known_stores)):
        store_name(store_id)
    return customer if customer is not None else customer_name(customer_id)


def customer_registered(*, customer_id: str, name: str, version: int) -> None:
    """Insert the customer, or update an older row."""
    copies.upsert(CustomerCache, customer_id, version, name=name)


def store_created(*, store_id: str, name: str, version: int) -> None:
    """Insert the store, or update an older row."""
    copies.upsert(StoreCache, store_id, version, name=name)


def customer_changed(*, customer_id: str, version: int) -> None:
    """Advance the row to ``version`` if newer (an event that changes nothing search keeps, ADR 34); a missing
    row is first read through the facade."""
    copies.update(CustomerCache, customer_id, version, _customer_row)


def store_changed(*, store_id: str, version: int, **fields) -> None:
    """Set ``fields`` (none: only the version, ADR 34) if ``version`` is newer than the row; a missing row is
    first read through the facade."""
    copies.update(StoreCache, store_id, version, _store_row, **fields)


def product_added(*, product_id: str, store_id: str, name: str, version: int) -> None:
    """Insert the product, or update an older live row (a tombstone stays)."""
    copies.upsert(ProductCache, product_id, version, store_id=store_id, name=name)


def product_changed(*, product_id: str, version: int, **fields) -> None:
    """Set ``fields`` (none: only the version, ADR 34) on a live row if ``version`` is newer; a missing row is
    first read through the facade."""
    copies.update(ProductCache, product_id, version, _product_row, **fields)


def product_removed(*, product_id: str, version: int) -> None:
    """Turn the row into a tombstone (keeping its name); a missing row becomes one (from the facade if it
    knows the product)."""
    copies.remove(ProductCache, product_id, version, _product_row)
