"""Migration 0003 (ADR 34): stored items lose their names, keep everything else and their order."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.db import connection

from eventstore import codec

pytestmark = pytest.mark.django_db


def test_0003_removes_the_names_from_stored_items_and_keeps_the_rest_in_order():
    strip = import_module("search.migrations.0003_items_without_names").STRIP_NAMES
    named = [{"product_id": "p2", "store_id": "s1", "product_name": "P", "store_name": "S", "price": 1.5,
              "quantity": 2},
             {"product_id": "p1", "store_id": "s1", "product_name": "Q", "store_name": "S", "price": 1, "quantity": 1}]
    with connection.cursor() as cursor:
        for order_id, items in (("o-named", named), ("o-empty", [])):
            cursor.execute("INSERT INTO search_order (order_id, customer_id, customer_name, items, product_ids,"
                           " store_ids, total, status, created_at, updated_at, version, items_version)"
                           " VALUES (%s, 'c', 'Ann', %s::jsonb, '{}', '{}', 0, 'pending', now(), now(), 1, 1)",
                           [order_id, codec.dumps(items)])
        cursor.execute(strip)
        cursor.execute("SELECT order_id, items::text FROM search_order ORDER BY order_id")
        found = {order_id: codec.loads(items) for order_id, items in cursor.fetchall()}
    assert found == {"o-empty": [], "o-named": [
        {"product_id": "p2", "store_id": "s1", "price": 1.5, "quantity": 2},
        {"product_id": "p1", "store_id": "s1", "price": 1, "quantity": 1}]}
