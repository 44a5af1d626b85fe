"""Search rules (api.md §4.7, events.md §8): order statuses per event, filters, page size and the cursor.

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
