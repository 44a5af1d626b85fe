"""Reads of the stores read models for the API (the kiosk's hot paths among them).

The lookups by id raise ``NotFound`` (404) for an unknown or malformed id. Other modules read through
``stores.public``.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from eventstore.errors import NotFound
from eventstore.ids import is_valid_id
from stores import models


def all_stores() -> QuerySet[models.Store]:
    """Every store in creation order."""
    return models.Store.objects.order_by("created_position")


def participating_stores() -> QuerySet[models.Store]:
    """The participating stores in creation order."""
    return models.Store.objects.filter(participating=True).order_by("created_position")


def store_row(store_id: str) -> models.Store:
    """The store's row; ``NotFound("store")``."""
    row = models.Store.objects.filter(id=store_id).first() if is_valid_id(store_id) else None
    if row is None:
        raise NotFound("store")
    return row


def active_product_row(product_id: str) -> models.Product:
    """The product's row unless removed; ``NotFound("product")``."""
    row = models.Product.objects.filter(id=product_id, removed=False).first() if is_valid_id(product_id) else None
    if row is None:
        raise NotFound("product")
    return row


PRODUCT_COLUMNS = ("id", "store_id", "name", "description", "sku", "price")
_ACTIVE_PRODUCTS = (f"SELECT {', '.join(PRODUCT_COLUMNS)} FROM {models.Product._meta.db_table}"
                    " WHERE store_id = %s AND NOT removed ORDER BY created_position")


def active_product_rows(store_id: str) -> list[tuple]:
    """``PRODUCT_COLUMNS`` of a store's active products in creation order; ``NotFound("store")`` if no store.

    The kiosk's most frequent read: one indexed query, kept off the ORM's query compiler. Stores are
    never deleted, so the store row is read only when the product list is empty.
    """
    rows: list[tuple] = []
    if is_valid_id(store_id):
        with connection.cursor() as cursor:
            cursor.execute(_ACTIVE_PRODUCTS, [store_id])
            rows = cursor.fetchall()
    if not rows:
        store_row(store_id)
    return rows
