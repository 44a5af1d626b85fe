"""Shopping lists (product.md §6.6): the ShoppingList aggregate, its domain events and error texts.

A list holds stops (one per store, in order of first appearance) with the items to pick there; a
product appears once per list. Commands that change nothing (``=`` in the state table) record no
event. Commands that end an assigned or active list return the id of the bot to release (the seam
for the Bot aggregate); otherwise they return ``""``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from eventstore.domain import Aggregate, DomainEvent
from eventstore.errors import DomainError, NotFound
from eventstore.registry import domain_event
from eventstore.schema import QUANTITY_MAX

PENDING, AVAILABLE, ASSIGNED, ACTIVE, COMPLETED, CANCELED = (
    "pending", "available", "assigned", "active", "completed", "canceled")
STATUSES = (PENDING, AVAILABLE, ASSIGNED, ACTIVE, COMPLETED, CANCELED)
ITEM_PENDING, ITEM_PICKED, ITEM_UNAVAILABLE = "pending", "picked", "unavailable"

STORE_NOT_PARTICIPATING = "the store is not participating"  # E1
CANNOT_INITIATE = "the shopping list cannot be initiated"  # E2
CANNOT_ASSIGN = "the shopping list cannot be assigned"  # E3
CANNOT_START = "the shopping list cannot be started"  # E4
NOT_ACTIVE = "the shopping list is not active"  # E5
CANNOT_COMPLETE = "the shopping list cannot be completed"  # E6
CANNOT_CANCEL = "the shopping list cannot be canceled"  # E7
ORDER_HAS_LIST = "the order already has a shopping list"  # E8
ORDER_ID_BLANK = "the order id cannot be blank"  # E9
NO_ITEMS = "the shopping list has no items"  # E10
QUANTITY_NEGATIVE = "the item quantity cannot be negative"  # E11
QUANTITY_ZERO = "the item quantity cannot be zero"  # E12
PRODUCT_NOT_OF_STORE = "the product does not belong to the store"  # E13
PRODUCT_ID_BLANK = "the product id cannot be blank"  # E14
STORE_ID_BLANK = "the store id cannot be blank"  # E14
PICKED_EXCEEDS_ORDERED = "the picked quantity exceeds the ordered quantity"  # E15
BOT_ID_BLANK = "the bot id cannot be blank"
QUANTITY_TOO_LARGE = f"the item quantity cannot exceed {QUANTITY_MAX}"


@dataclass(frozen=True)
class StopItem:
    product_id: str
    product_name: str
    quantity: int


@dataclass(frozen=True)
class Stop:
    store_id: str
    store_name: str
    store_location: str
    items: tuple[StopItem, ...]


@domain_event
@dataclass(frozen=True)
class ShoppingListCreated(DomainEvent):
    name = "depot.ShoppingListCreated"
    order_id: str
    stops: tuple[Stop, ...]


@domain_event
@dataclass(frozen=True)
class ShoppingListInitiated(DomainEvent):
    name = "depot.ShoppingListInitiated"


@domain_event
@dataclass(frozen=True)
class ShoppingListAssigned(DomainEvent):
    name = "depot.ShoppingListAssigned"
    bot_id: str


@domain_event
@dataclass(frozen=True)
class ShoppingListStarted(DomainEvent):
    name = "depot.ShoppingListStarted"


@domain_event
@dataclass(frozen=True)
class ShoppingListItemPicked(DomainEvent):
    name = "depot.ShoppingListItemPicked"
    store_id: str
    product_id: str
    quantity: int


@domain_event
@dataclass(frozen=True)
class ShoppingListItemUnavailable(DomainEvent):
    """``quantity`` is the number of units not supplied: the ordered quantity."""

    name = "depot.ShoppingListItemUnavailable"
    store_id: str
    product_id: str
    quantity: int


@domain_event
@dataclass(frozen=True)
class ShoppingListCompleted(DomainEvent):
    name = "depot.ShoppingListCompleted"


@domain_event
@dataclass(frozen=True)
class ShoppingListCanceled(DomainEvent):
    name = "depot.ShoppingListCanceled"


@dataclass(frozen=True)
class NewItem:
    """One requested line, with the names and location the service resolved from its caches."""

    store_id: str
    store_name: str
    store_location: str
    product_id: str
    product_name: str
    quantity: int


@dataclass
class Item:
    """An item as the list tracks it: ordered and picked quantity, and its report status."""

    store_id: str
    product_id: str
    product_name: str
    quantity: int
    picked_quantity: int = 0
    status: str = ITEM_PENDING


def check_quantity(quantity: int) -> None:
    """E11, E12."""
    if quantity < 0:
        raise DomainError(QUANTITY_NEGATIVE)
    if quantity == 0:
        raise DomainError(QUANTITY_ZERO)


def check_line(product_id: str, store_id: str, quantity: int) -> None:
    """The checks of one requested line that need no lookup, in order: E14 (product, store), E11, E12, then
    the quantity bound (``QUANTITY_MAX``, ADR 20)."""
    if not product_id.strip():
        raise DomainError(PRODUCT_ID_BLANK)
    if not store_id.strip():
        raise DomainError(STORE_ID_BLANK)
    check_quantity(quantity)
    if quantity > QUANTITY_MAX:
        raise DomainError(QUANTITY_TOO_LARGE)


def check_source(*, store_id: str, product_store_id: str, participating: bool) -> None:
    """The checks of one line against the resolved store and product, in order: E13, E1."""
    if product_store_id != store_id:
        raise DomainError(PRODUCT_NOT_OF_STORE)
    if not participating:
        raise DomainError(STORE_NOT_PARTICIPATING)


def check_request(order_id: str, line_count: int) -> None:
    """E9, E10."""
    if not order_id.strip():
        raise DomainError(ORDER_ID_BLANK)
    if line_count == 0:
        raise DomainError(NO_ITEMS)


def group_stops(items: Iterable[NewItem]) -> tuple[Stop, ...]:
    """Stops in order of first appearance of their store; a repeated product's quantities are summed."""
    stops: dict[str, dict[str, Any]] = {}
    for item in items:
        stop = stops.setdefault(item.store_id, {"name": item.store_name, "location": item.store_location, "items": {}})
        line = stop["items"].get(item.product_id)
        quantity = item.quantity + (line.quantity if line else 0)
        stop["items"][item.product_id] = StopItem(item.product_id, line.product_name if line else item.product_name,
                                                  quantity)
    return tuple(Stop(store_id, s["name"], s["location"], tuple(s["items"].values())) for store_id, s in stops.items())


class ShoppingList(Aggregate):
    stream_type = "depot.ShoppingList"
    thing = "shopping list"
    snapshot_name = "depot.ShoppingListV1"

    order_id: str
    status: str
    assigned_bot_id: str
    stops: list[dict[str, str]]
    items: list[Item]

    @classmethod
    def create(cls, id: str, *, order_id: str, items: list[NewItem]) -> "ShoppingList":
        """A pending list for the order. Checks E9, E10 and per line E14, E11, E12, then each merged item's
        quantity bound. Emits ShoppingListCreated."""
        check_request(order_id, len(items))
        for item in items:
            check_line(item.product_id, item.store_id, item.quantity)
        stops = group_stops(items)
        if any(item.quantity > QUANTITY_MAX for stop in stops for item in stop.items):
            raise DomainError(QUANTITY_TOO_LARGE)
        shopping_list = cls(id)
        shopping_list.raise_event(ShoppingListCreated(order_id=order_id, stops=stops))
        return shopping_list

    # --- queries -------------------------------------------------------------------------------

    def item(self, product_id: str) -> Item:
        """The item for the product; ``NotFound("item")`` if it is not on the list."""
        for item in self.items:
            if item.product_id == product_id:
                return item
        raise NotFound("item")

    @property
    def bot_to_release(self) -> str:
        return self.assigned_bot_id if self.status in (ASSIGNED, ACTIVE) else ""

    # --- commands ------------------------------------------------------------------------------

    def initiate(self) -> None:
        """Staff: pending → available, else E2. Emits ShoppingListInitiated."""
        if self.status != PENDING:
            raise DomainError(CANNOT_INITIATE)
        self.raise_event(ShoppingListInitiated())

    def initiate_for_saga(self) -> None:
        """Saga step: pending → available; ``=`` once past pending; E2 when canceled."""
        if self.status == CANCELED:
            raise DomainError(CANNOT_INITIATE)
        if self.status == PENDING:
            self.raise_event(ShoppingListInitiated())

    def assign(self, bot_id: str) -> None:
        """available → assigned to ``bot_id``, else E3. Emits ShoppingListAssigned."""
        if not bot_id.strip():
            raise DomainError(BOT_ID_BLANK)
        if self.status != AVAILABLE:
            raise DomainError(CANNOT_ASSIGN)
        self.raise_event(ShoppingListAssigned(bot_id=bot_id))

    def start(self) -> None:
        """assigned → active; ``=`` when already active; else E4. Emits ShoppingListStarted."""
        if self.status == ACTIVE:
            return
        if self.status != ASSIGNED:
            raise DomainError(CANNOT_START)
        self.raise_event(ShoppingListStarted())

    def pick_item(self, product_id: str, quantity: int) -> None:
        """Set the picked quantity (last report wins). Checks E5, item on the list, E11, E12, E15.

        Emits ShoppingListItemPicked.
        """
        if self.status != ACTIVE:
            raise DomainError(NOT_ACTIVE)
        item = self.item(product_id)
        check_quantity(quantity)
        if quantity > item.quantity:
            raise DomainError(PICKED_EXCEEDS_ORDERED)
        self.raise_event(ShoppingListItemPicked(store_id=item.store_id, product_id=product_id, quantity=quantity))

    def report_unavailable(self, product_id: str) -> None:
        """Picked quantity := 0. Checks E5, item on the list. Emits ShoppingListItemUnavailable."""
        if self.status != ACTIVE:
            raise DomainError(NOT_ACTIVE)
        item = self.item(product_id)
        self.raise_event(ShoppingListItemUnavailable(store_id=item.store_id, product_id=product_id,
                                                     quantity=item.quantity))

    def complete(self) -> str:
        """active → completed, else E6. Items never reported become unavailable first.

        Emits one ShoppingListItemUnavailable per never-reported item, then ShoppingListCompleted.
        Returns the bot to release.
        """
        if self.status != ACTIVE:
            raise DomainError(CANNOT_COMPLETE)
        bot_id = self.bot_to_release
        for item in [i for i in self.items if i.status == ITEM_PENDING]:
            self.raise_event(ShoppingListItemUnavailable(store_id=item.store_id, product_id=item.product_id,
                                                         quantity=item.quantity))
        self.raise_event(ShoppingListCompleted())
        return bot_id

    def cancel(self) -> str:
        """Staff: any open list → canceled; E7 when completed or canceled. Returns the bot to release."""
        if self.status in (COMPLETED, CANCELED):
            raise DomainError(CANNOT_CANCEL)
        return self._cancel()

    def cancel_for_saga(self) -> str:
        """Saga compensation: open → canceled; ``=`` when canceled; E7 when completed."""
        if self.status == COMPLETED:
            raise DomainError(CANNOT_CANCEL)
        return "" if self.status == CANCELED else self._cancel()

    def cancel_for_order(self) -> str:
        """The order was cancelled or rejected: open → canceled; completed or canceled lists are left alone."""
        return "" if self.status in (COMPLETED, CANCELED) else self._cancel()

    def _cancel(self) -> str:
        bot_id = self.bot_to_release
        self.raise_event(ShoppingListCanceled())
        return bot_id

    # --- state ---------------------------------------------------------------------------------

    def apply_ShoppingListCreated(self, event: ShoppingListCreated) -> None:
        self.order_id = event.order_id
        self.status = PENDING
        self.assigned_bot_id = ""
        self.stops = [{"store_id": s.store_id, "store_name": s.store_name, "store_location": s.store_location}
                      for s in event.stops]
        self.items = [Item(s.store_id, i.product_id, i.product_name, i.quantity) for s in event.stops for i in s.items]

    def apply_ShoppingListInitiated(self, event: ShoppingListInitiated) -> None:
        self.status = AVAILABLE

    def apply_ShoppingListAssigned(self, event: ShoppingListAssigned) -> None:
        self.status = ASSIGNED
        self.assigned_bot_id = event.bot_id

    def apply_ShoppingListStarted(self, event: ShoppingListStarted) -> None:
        self.status = ACTIVE

    def apply_ShoppingListItemPicked(self, event: ShoppingListItemPicked) -> None:
        item = self.item(event.product_id)
        item.picked_quantity = event.quantity
        item.status = ITEM_PICKED

    def apply_ShoppingListItemUnavailable(self, event: ShoppingListItemUnavailable) -> None:
        item = self.item(event.product_id)
        item.picked_quantity = 0
        item.status = ITEM_UNAVAILABLE

    def apply_ShoppingListCompleted(self, event: ShoppingListCompleted) -> None:
        self.status = COMPLETED

    def apply_ShoppingListCanceled(self, event: ShoppingListCanceled) -> None:
        self.status = CANCELED

    def restore_state(self, state: dict[str, Any]) -> None:
        super().restore_state(state)
        self.items = [Item(**item) for item in state["items"]]


# --- bots (product.md §6.7) ----------------------------------------------------------------------

OFFLINE, IDLE = "offline", "idle"
BOT_STATUSES = (OFFLINE, IDLE, ACTIVE)

BOT_NAME_BLANK = "the bot name cannot be blank"  # E1
BOT_ALREADY_ONLINE = "the bot is already online"  # E2
BOT_ALREADY_OFFLINE = "the bot is already offline"  # E3
BOT_SHOPPING = "the bot cannot go offline while shopping"  # E4
BOT_NOT_AVAILABLE = "the bot is not available"  # E5


@domain_event
@dataclass(frozen=True)
class BotRegistered(DomainEvent):
    name = "depot.BotRegistered"
    payload_keys = {"bot_name": "name"}
    bot_name: str


@domain_event
@dataclass(frozen=True)
class BotWentOnline(DomainEvent):
    name = "depot.BotWentOnline"


@domain_event
@dataclass(frozen=True)
class BotWentOffline(DomainEvent):
    name = "depot.BotWentOffline"


@domain_event
@dataclass(frozen=True)
class BotAssigned(DomainEvent):
    name = "depot.BotAssigned"
    shopping_list_id: str


@domain_event
@dataclass(frozen=True)
class BotReleased(DomainEvent):
    name = "depot.BotReleased"
    shopping_list_id: str


class Bot(Aggregate):
    """A shopping robot: ``offline`` → ``idle`` (available) ⇄ ``active`` (shopping one list)."""

    stream_type = "depot.Bot"
    thing = "bot"
    snapshot_name = "depot.BotV1"

    bot_name: str
    status: str
    shopping_list_id: str

    @classmethod
    def register(cls, id: str, *, name: str) -> "Bot":
        """A new offline bot. E1 if the name is blank. Emits BotRegistered."""
        if not name.strip():
            raise DomainError(BOT_NAME_BLANK)
        bot = cls(id)
        bot.raise_event(BotRegistered(bot_name=name.strip()))
        return bot

    @property
    def available(self) -> bool:
        return self.status == IDLE

    def go_online(self) -> None:
        """offline → idle, else E2. Emits BotWentOnline."""
        if self.status != OFFLINE:
            raise DomainError(BOT_ALREADY_ONLINE)
        self.raise_event(BotWentOnline())

    def go_offline(self) -> None:
        """idle → offline; E3 when offline, E4 when active. Emits BotWentOffline."""
        if self.status == OFFLINE:
            raise DomainError(BOT_ALREADY_OFFLINE)
        if self.status == ACTIVE:
            raise DomainError(BOT_SHOPPING)
        self.raise_event(BotWentOffline())

    def assign(self, shopping_list_id: str) -> None:
        """idle → active with the list, else E5. Emits BotAssigned."""
        if self.status != IDLE:
            raise DomainError(BOT_NOT_AVAILABLE)
        self.raise_event(BotAssigned(shopping_list_id=shopping_list_id))

    def release(self, shopping_list_id: str) -> bool:
        """active with ``shopping_list_id`` → idle (BotReleased); otherwise ``=``. Returns whether it changed."""
        if self.status != ACTIVE or self.shopping_list_id != shopping_list_id:
            return False
        self.raise_event(BotReleased(shopping_list_id=shopping_list_id))
        return True

    def apply_BotRegistered(self, event: BotRegistered) -> None:
        self.bot_name = event.bot_name
        self.status = OFFLINE
        self.shopping_list_id = ""

    def apply_BotWentOnline(self, event: BotWentOnline) -> None:
        self.status = IDLE

    def apply_BotWentOffline(self, event: BotWentOffline) -> None:
        self.status = OFFLINE

    def apply_BotAssigned(self, event: BotAssigned) -> None:
        self.status = ACTIVE
        self.shopping_list_id = event.shopping_list_id

    def apply_BotReleased(self, event: BotReleased) -> None:
        self.status = IDLE
        self.shopping_list_id = ""
