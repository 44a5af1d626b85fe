"""The depot's copies of stores data (events.md §8) through ``eventstore.copies``: version guard, tombstones
(a removed store or product stays, so late events cannot bring it back), read-through of ``stores.public`` on
a miss. All functions run inside the caller's transaction.
"""

from __future__ import annotations

from depot.models import ProductCache, ShoppingList, StoreCache
from eventstore import copies
from eventstore.ids import is_valid_id
from stores import public as stores_public


def _store_row(store_id: str) -> StoreCache | None:
    info = stores_public.find_store(store_id)
    return None if info is None else StoreCache(id=info.id, name=info.name, location=info.location,
                                                participating=info.participating, version=info.version)


def _product_row(product_id: str) -> ProductCache | None:
    info = stores_public.find_product(product_id)
    return None if info is None else ProductCache(id=info.id, store_id=info.store_id, name=info.name,
                                                  version=info.version, removed=info.removed)


def store(store_id: str) -> StoreCache | None:
    """The cached store, read through the stores facade on a miss; ``None`` if unknown, malformed or removed."""
    row = copies.read(StoreCache, store_id, _store_row) if is_valid_id(store_id) else None
    return None if row is None or row.removed else row


def product(product_id: str) -> ProductCache | None:
    """The cached product, read through the stores facade on a miss; ``None`` if unknown, malformed or removed."""
    row = copies.read(ProductCache, product_id, _product_row) if is_valid_id(product_id) else None
    return None if row is None or row.removed else row


def list_stores_and_products(order_id: str, store_ids: list[str], product_ids: list[str]) -> tuple[
        str | None, dict[str, StoreCache], dict[str, ProductCache]]:
    """The id of the order's shopping list (``None`` if it has none) and the cached stores and products among
    these ids, in one statement (read through on a miss), removed ones left out: what ``store`` and ``product``
    answer for each id, for a whole list at once."""
    list_id, stores, products = copies.read_many_together(
        (StoreCache, [i for i in store_ids if is_valid_id(i)], _store_row),
        (ProductCache, [i for i in product_ids if is_valid_id(i)], _product_row),
        before=f"(SELECT id FROM {ShoppingList._meta.db_table} WHERE order_id = %s)", before_params=[order_id])
    return (list_id, {k: v for k, v in stores.items() if not v.removed},
            {k: v for k, v in products.items() if not v.removed})


def store_created(*, store_id: str, name: str, location: str, version: int) -> None:
    """Insert the store (participating), or update an older live row."""
    copies.upsert(StoreCache, store_id, version, name=name, location=location, participating=True)


def store_changed(*, store_id: str, version: int, **fields) -> None:
    """Apply ``fields`` if ``version`` is newer than the row; a missing row is first read through the facade."""
    copies.update(StoreCache, store_id, version, _store_row, **fields)


def product_added(*, product_id: str, store_id: str, name: str, version: int) -> None:
    """Insert the product, or update an older live row (a tombstone stays)."""
    copies.upsert(ProductCache, product_id, version, store_id=store_id, name=name)


def product_changed(*, product_id: str, version: int, **fields) -> None:
    """Apply ``fields`` to a live row if ``version`` is newer; a missing row is first read through the facade."""
    copies.update(ProductCache, product_id, version, _product_row, **fields)


def product_removed(*, product_id: str, version: int) -> None:
    """Turn the row into a tombstone; a missing row becomes one (from the facade if it knows the product)."""
    copies.remove(ProductCache, product_id, version, _product_row)
