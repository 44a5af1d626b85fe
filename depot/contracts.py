"""Messages of the depot (events.md §4.6, §4.7, §5).

Payload keys are snake_case; every field has its zero value as default so a payload missing a key
still parses.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventstore.registry import message

SHOPPING_LIST_SUBJECT = "mallbots.depot.events.ShoppingList"
BOT_SUBJECT = "mallbots.depot.events.Bot"
COMMANDS_SUBJECT = "mallbots.depot.commands"
CREATE_ORDER_REPLIES = "mallbots.cosec.replies.CreateOrder"


@message("depotapi.ShoppingListStarted", SHOPPING_LIST_SUBJECT)
@dataclass(frozen=True)
class ShoppingListStarted:
    """The assigned bot started shopping."""

    id: str = ""
    order_id: str = ""
    bot_id: str = ""


@message("depotapi.ShoppingListItemUnavailable", SHOPPING_LIST_SUBJECT)
@dataclass(frozen=True)
class ShoppingListItemUnavailable:
    """An item was reported unavailable, or never reported when the list was completed.

    ``quantity`` is the number of units not supplied (the ordered quantity).
    """

    id: str = ""
    order_id: str = ""
    store_id: str = ""
    product_id: str = ""
    quantity: int = 0


@dataclass(frozen=True)
class CompletedItem:
    product_id: str = ""
    store_id: str = ""
    quantity: int = 0
    picked_quantity: int = 0


@message("depotapi.ShoppingListCompleted", SHOPPING_LIST_SUBJECT)
@dataclass(frozen=True)
class ShoppingListCompleted:
    """The list was completed at the depot; per item the ordered and the picked quantity (0 = unavailable)."""

    id: str = ""
    order_id: str = ""
    items: tuple[CompletedItem, ...] = ()


@message("depotapi.ShoppingListCanceled", SHOPPING_LIST_SUBJECT)
@dataclass(frozen=True)
class ShoppingListCanceled:
    """The list was cancelled by staff, by saga compensation, or because its order was cancelled or rejected."""

    id: str = ""
    order_id: str = ""


@message("depotapi.BotAvailable", BOT_SUBJECT)
@dataclass(frozen=True)
class BotAvailable:
    """A bot became idle (came online or was released)."""

    id: str = ""
    name: str = ""


@message("depotapi.BotUnavailable", BOT_SUBJECT)
@dataclass(frozen=True)
class BotUnavailable:
    """An idle bot went offline or was assigned a list; ``status`` is ``offline`` or ``active``."""

    id: str = ""
    name: str = ""
    status: str = ""


@dataclass(frozen=True)
class CreateShoppingListItem:
    product_id: str = ""
    store_id: str = ""
    quantity: int = 0


@message("depotapi.CreateShoppingListCommand", COMMANDS_SUBJECT)
@dataclass(frozen=True)
class CreateShoppingListCommand:
    """Saga step 2. Reply: ``CreatedShoppingListReply`` (also when the order already has a list) or Failure."""

    order_id: str = ""
    items: tuple[CreateShoppingListItem, ...] = ()


@message("depotapi.InitiateShoppingCommand", COMMANDS_SUBJECT)
@dataclass(frozen=True)
class InitiateShoppingCommand:
    """Saga step 4: make the list available. Reply: Success (also when already past pending) or Failure."""

    id: str = ""


@message("depotapi.CancelShoppingListCommand", COMMANDS_SUBJECT)
@dataclass(frozen=True)
class CancelShoppingListCommand:
    """Saga compensation of step 2. Reply: Success (also when already canceled) or Failure."""

    id: str = ""


@message("depotapi.CreatedShoppingListReply", CREATE_ORDER_REPLIES)
@dataclass(frozen=True)
class CreatedShoppingListReply:
    id: str = ""
