"""Reads of the search read model for the API (api.md §4.7) and the order board (architecture.md §10)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from eventstore import rows
from eventstore.ids import is_valid_id
from search import domain
from search.models import Order, ProductCache, StoreCache

_CURRENT_NAMES = (
    f"SELECT ARRAY(SELECT ARRAY[id, name] FROM {ProductCache._meta.db_table} WHERE id = ANY(%s)),"
    f" ARRAY(SELECT ARRAY[id, name] FROM {StoreCache._meta.db_table} WHERE id = ANY(%s))"
)


def named(orders: list[Order]) -> list[Order]:
    """``orders`` with each item's ``product_name`` and ``store_name`` as the caches hold them now (ADR 34; ``""``
    for one they lack), read for all of them in one statement."""
    items = [item for order in orders for item in order.items]
    if not items:
        return orders
    [(products, stores)] = rows.fetch(_CURRENT_NAMES, [sorted({i["product_id"] for i in items}),
                                                       sorted({i["store_id"] for i in items})])
    products, stores = dict(products), dict(stores)
    for item in items:
        item["product_name"] = products.get(item["product_id"], "")
        item["store_name"] = stores.get(item["store_id"], "")
    return orders


def search_orders(filters: domain.Filters, *, cursor: domain.Cursor | None, limit: int) -> tuple[list[Order], str]:
    """One page of the orders matching every filter, newest first (``created_at``, then ``order_id``,
    descending), after ``cursor``; and the cursor of the next page (``""`` when there is none).

    Uses ``search_order_newest_first`` for the order and the paging condition, the GIN indexes for the
    store and product filters; the page's items are named (``named``). Precondition: ``filters.check()`` passed.
    """
    if filters.matches_nothing:
        return [], ""
    matching = Order.objects.all()
    if filters.customer_id:
        matching = matching.filter(customer_id=filters.customer_id)
    if filters.status:
        matching = matching.filter(status=filters.status)
    if filters.after is not None:
        matching = matching.filter(created_at__gt=filters.after)
    if filters.before is not None:
        matching = matching.filter(created_at__lt=filters.before)
    if filters.store_ids:
        matching = matching.filter(store_ids__overlap=domain.valid_ids(filters.store_ids))
    if filters.product_ids:
        matching = matching.filter(product_ids__overlap=domain.valid_ids(filters.product_ids))
    if filters.min_total:
        matching = matching.filter(total__gte=filters.min_total)
    if filters.max_total:
        matching = matching.filter(total__lte=filters.max_total)
    if cursor is not None:
        matching = matching.filter(Q(created_at__lt=cursor.created_at)
                                   | Q(created_at=cursor.created_at, order_id__lt=cursor.order_id))
    page = list(matching.order_by("-created_at", "-order_id")[:limit + 1])
    if len(page) <= limit:
        return named(page), ""
    last = page[limit - 1]
    return named(page[:limit]), domain.encode_cursor(domain.Cursor(created_at=last.created_at, order_id=last.order_id))


def find_order(order_id: str) -> Order | None:
    """The order's search row with its items named (``named``), or ``None`` for an unknown or malformed id."""
    row = Order.objects.filter(order_id=order_id).first() if is_valid_id(order_id) else None
    return None if row is None else named([row])[0]


def board_orders(*, updated_since: dt.datetime, limit: int = domain.BOARD_LIMIT) -> list[Order]:
    """The board's orders: every order in an open status plus the others updated at or after ``updated_since``,
    newest first (``created_at``, then ``order_id``, descending), at most ``limit``. The status and
    ``updated_at`` indexes serve the two conditions."""
    recent = Order.objects.filter(Q(status__in=domain.OPEN_STATUSES) | Q(updated_at__gte=updated_since))
    return list(recent.order_by("-created_at", "-order_id")
                .only("order_id", "customer_name", "status", "total", "items", "updated_at")[:limit])


def board_row(order_id: str) -> domain.BoardRow | None:
    """What the board shows of the order's search row, or ``None`` when there is no row (yet)."""
    row = (Order.objects.filter(order_id=order_id).only("customer_name", "total", "items").first()
           if is_valid_id(order_id) else None)
    if row is None:
        return None
    return domain.BoardRow(customer_name=row.customer_name, total=row.total, item_count=domain.item_count(row.items))
