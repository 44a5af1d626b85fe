"""Query facade of the depot for other modules: frozen dataclasses read from the depot read models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from depot import models
from eventstore.ids import is_valid_id


@dataclass(frozen=True)
class ShoppingItemInfo:
    store_id: str
    product_id: str
    product_name: str
    quantity: int
    picked_quantity: int
    status: str


@dataclass(frozen=True)
class ShoppingListInfo:
    """A shopping list; ``items`` in list order (stops, then items), with ordered and picked quantities."""

    id: str
    order_id: str
    status: str
    assigned_bot_id: str
    items: tuple[ShoppingItemInfo, ...]
    created_at: datetime
    version: int


def _info(row: models.ShoppingList) -> ShoppingListInfo:
    items = tuple(ShoppingItemInfo(store_id=stop["store_id"], product_id=item["product_id"],
                                   product_name=item["product_name"], quantity=item["quantity"],
                                   picked_quantity=item["picked_quantity"], status=item["status"])
                  for stop in row.stops for item in stop["items"])
    return ShoppingListInfo(id=row.id, order_id=row.order_id, status=row.status, assigned_bot_id=row.assigned_bot_id,
                            items=items, created_at=row.created_at, version=row.version)


def find_shopping_list(list_id: str) -> ShoppingListInfo | None:
    """The list, or ``None`` for an unknown or malformed id."""
    if not is_valid_id(list_id):
        return None
    row = models.ShoppingList.objects.filter(id=list_id).first()
    return _info(row) if row else None


def shopping_list_for_order(order_id: str) -> ShoppingListInfo | None:
    """The order's list (at most one per order), or ``None``."""
    row = models.ShoppingList.objects.filter(order_id=order_id).first()
    return _info(row) if row else None


def bot_names(bot_ids: Iterable[str]) -> dict[str, str]:
    """The names of the known bots among ``bot_ids``, by id (one query)."""
    ids = [bot_id for bot_id in set(bot_ids) if bot_id]
    return dict(models.Bot.objects.filter(id__in=ids).values_list("id", "name")) if ids else {}
