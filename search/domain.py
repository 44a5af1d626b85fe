"""Search rules (api.md §4.7, events.md §8): order statuses per event, filters, page size and the cursor; the
order board's ``BoardOrder`` (architecture.md §10).

Pure Python. The cursor is opaque to clients: base64url (no padding) of the JSON ``[createdAt, orderId]`` of
the last order of a page; the next page holds the orders strictly after it in the sort order (``createdAt``
descending, then ``orderId`` descending), so orders with equal ``createdAt`` are neither skipped nor repeated.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from eventstore.errors import DomainError
from eventstore.ids import is_valid_id

PENDING, APPROVED, IN_PROGRESS, READY = "pending", "approved", "in-progress", "ready"
COMPLETED, REJECTED, CANCELLED = "completed", "rejected", "cancelled"
STATUSES = (PENDING, APPROVED, IN_PROGRESS, READY, COMPLETED, REJECTED, CANCELLED)

STATUS_AFTER = {
    "ordersapi.OrderCreated": PENDING,
    "ordersapi.OrderApproved": APPROVED,
    "ordersapi.OrderRejected": REJECTED,
    "ordersapi.OrderStarted": IN_PROGRESS,
    "ordersapi.OrderReadied": READY,
    "ordersapi.OrderCanceled": CANCELLED,
    "ordersapi.OrderCompleted": COMPLETED,
}
"""The order's status after each order event (``ordering`` spells the status ``cancelled``)."""

OPEN_STATUSES = (PENDING, APPROVED, IN_PROGRESS, READY)
"""Orders the board shows whatever their age; the others only while updated within ``BOARD_RECENT_MINUTES``."""
BOARD_LIMIT = 200
"""At most this many orders in a board snapshot."""

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_IDS = 100
"""At most this many ``storeIds`` / ``productIds`` per request."""

MIN_ABOVE_MAX = "the minimum total cannot be greater than the maximum total"
INVALID_CURSOR = "the next cursor is invalid"
MAX_CURSOR_LENGTH = 256

_UTC = dt.timezone.utc


def unknown_status(value: str) -> str:
    return f"unknown order status: {value}"


def page_size(limit: int) -> int:
    """≤ 0 → 20; above 100 → 100."""
    return DEFAULT_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)


@dataclass(frozen=True)
class Cursor:
    created_at: dt.datetime
    order_id: str


def encode_cursor(cursor: Cursor) -> str:
    text = json.dumps([cursor.created_at.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), cursor.order_id],
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor | None:
    """The cursor of ``text``; ``None`` for ``""`` (first page). Raises ``DomainError`` if it cannot be decoded."""
    if text == "":
        return None
    try:
        if len(text) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        created, order_id = raw
        created_at = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=_UTC)
        if not is_valid_id(order_id):
            raise ValueError("bad order id")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise DomainError(INVALID_CURSOR) from None
    return Cursor(created_at=created_at, order_id=order_id)


@dataclass(frozen=True)
class Filters:
    """The request's filters, each at its zero value when unset (= no filter)."""

    customer_id: str = ""
    after: dt.datetime | None = None
    before: dt.datetime | None = None
    store_ids: tuple[str, ...] = ()
    product_ids: tuple[str, ...] = ()
    min_total: Decimal = Decimal("0.00")
    max_total: Decimal = Decimal("0.00")
    status: str = ""

    def check(self) -> None:
        """Business rules in the order of api.md §4.7: the status, then the total range."""
        if self.status and self.status not in STATUSES:
            raise DomainError(unknown_status(self.status))
        if self.min_total > 0 and self.max_total > 0 and self.min_total > self.max_total:
            raise DomainError(MIN_ABOVE_MAX)

    @property
    def matches_nothing(self) -> bool:
        """A filter that only names ids no order can have (malformed ids, api.md §1.3): the answer is empty."""
        if self.customer_id and not is_valid_id(self.customer_id):
            return True
        return any(ids and not valid_ids(ids) for ids in (self.store_ids, self.product_ids))


def valid_ids(ids: tuple[str, ...]) -> list[str]:
    """The well-formed ids of a list filter (the others cannot match any order)."""
    return [i for i in ids if is_valid_id(i)]


@dataclass(frozen=True)
class BoardRow:
    """What the board takes from an order's search row."""

    customer_name: str
    total: Decimal
    item_count: int


def item_count(items: list[dict]) -> int:
    """Pieces to hand over: the quantities of the order's lines added up."""
    return sum(int(item.get("quantity") or 0) for item in items)


def board_order(*, order_id: str, customer_name: str, status: str, total: Decimal, item_count: int,
                updated_at: str) -> dict:
    """``BoardOrder`` as the board's socket sends it (``total`` a ``Decimal``, a JSON number on the wire)."""
    return {"orderId": order_id, "customerName": customer_name, "status": status, "total": total,
            "itemCount": item_count, "updatedAt": updated_at}


def board_update(*, name: str, payload: dict, updated_at: str, row: BoardRow | None) -> dict:
    """The board's ``update`` message for order event ``name`` (a key of ``STATUS_AFTER``): the status from the
    name, ``total`` from the payload when it has one (OrderReadied), the rest from the search row, ``""`` / 0
    when the row does not exist yet; ``updatedAt`` = the event's ``occurred_at``."""
    total = payload.get("total")
    return {"type": "update", "event": name, "order": board_order(
        order_id=str(payload.get("id") or ""), customer_name=row.customer_name if row else "",
        status=STATUS_AFTER[name],
        total=Decimal(str(total)) if total is not None else (row.total if row else Decimal("0.00")),
        item_count=row.item_count if row else 0, updated_at=updated_at)}
