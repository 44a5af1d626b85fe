"""The search order's admin page names its items from the caches, as the API does (ADR 34)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from access.testing import make_user
from search.models import Order, ProductCache, StoreCache

pytestmark = pytest.mark.django_db


def test_the_change_page_shows_each_item_with_the_names_the_caches_hold(client):
    StoreCache.objects.create(id="s1", name="Books", version=1)
    ProductCache.objects.create(id="p1", store_id="s1", name="Novel", version=2)
    at = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)
    Order.objects.create(order_id="o1", customer_id="c1", customer_name="Ann", total=Decimal("19.98"),
                         status="ready", items=[{"product_id": "p1", "store_id": "s1", "price": Decimal("9.99"),
                                                 "quantity": 2}],
                         product_ids=["p1"], store_ids=["s1"], created_at=at, updated_at=at, version=4,
                         items_version=4)
    client.force_login(make_user("user-depot_staff", "depot_staff"))
    page = client.get("/admin/search/order/o1/change/")
    assert page.status_code == 200
    assert "<div>2 × Novel (Books) at 9.99</div>" in page.content.decode()
