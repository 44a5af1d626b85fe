"""Depot use cases: shopping lists and bots (product.md F4, F6, F7, F10, §6.6, §6.7). Each runs in one
transaction.

Every function loads its aggregate (``NotFound`` → 404 / Failure ``shopping list not found``, ``bot not
found``), calls the domain (``DomainError`` → 400 / Failure) and saves it; the read models and the
integration events are written in the same transaction by ``depot.handlers``. A concurrent writer makes
the save raise ``ConcurrencyError``. ``acting_bot_id`` is the bot of a bot token (``None`` for staff): a
bot may act only on its own record and on the list assigned to it (``Forbidden``, checked right after
loading). Use cases that change whether a list or a bot is available hold the dispatch lock, and those
that make one available dispatch before they commit (``depot.dispatch``).
"""

from __future__ import annotations

from dataclasses import dataclass

from depot import caches, dispatch, domain
from depot.dispatch import bots, shopping_lists
from depot.domain import Bot, ShoppingList
from depot.models import ProductCache, StoreCache, ShoppingList as ShoppingListRow
from eventstore import store
from eventstore.errors import DomainError, Forbidden, NotFound
from eventstore.ids import new_id
from eventstore.transactions import use_case

NOT_ASSIGNED_TO_BOT = "the shopping list is not assigned to this bot"
NOT_THIS_BOT = "permission denied"


@dataclass(frozen=True)
class Line:
    """One requested item of a create request."""

    product_id: str
    store_id: str
    quantity: int


def create_shopping_list(*, order_id: str, items: list[Line], existing_ok: bool = False) -> str:
    """Create the pending list of an order; returns its id. Emits ShoppingListCreated.

    Checks, in order: E9, E10; per line E14, E11/E12, store exists, product exists (not removed),
    E13, E1; then one list per order: E8, or with ``existing_ok`` (the saga command) the id of the
    order's existing list, which is returned before the lines are checked so a repeated command is
    answered the same way. Holds the transaction-scoped advisory lock of the order id, so two
    creates for one order are serialised; the unique ``order_id`` of the read model backs it up.
    """
    with use_case():
        domain.check_request(order_id, len(items))
        _lock_order(order_id)
        existing, stores, products = caches.list_stores_and_products(
            order_id, [line.store_id for line in items], [line.product_id for line in items])
        if existing and existing_ok:
            return existing
        resolved = [_resolve(line, stores, products) for line in items]
        if existing:
            raise DomainError(domain.ORDER_HAS_LIST)
        shopping_list = ShoppingList.create(new_id(), order_id=order_id, items=resolved)
        shopping_lists.create(shopping_list)
    return shopping_list.id


def _lock_order(order_id: str) -> None:
    """Deferred (``store.write``): the lock travels with the next statement, which runs once it is held."""
    store.write("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"depot-order:{order_id}"])


def _resolve(line: Line, stores: dict[str, StoreCache], products: dict[str, ProductCache]) -> domain.NewItem:
    domain.check_line(line.product_id, line.store_id, line.quantity)
    shop = stores.get(line.store_id)
    if shop is None:
        raise NotFound("store")
    product = products.get(line.product_id)
    if product is None:
        raise NotFound("product")
    domain.check_source(store_id=shop.id, product_store_id=product.store_id, participating=shop.participating)
    return domain.NewItem(store_id=shop.id, store_name=shop.name, store_location=shop.location,
                          product_id=product.id, product_name=product.name, quantity=line.quantity)


def initiate_shopping(*, list_id: str, by_saga: bool = False) -> None:
    """Make a pending list available for dispatch. Emits ShoppingListInitiated.

    Staff: E2 unless pending. Saga (``by_saga``): ``=`` once past pending, E2 when canceled. Then
    dispatch (ShoppingListAssigned, BotAssigned when a bot is idle).
    """
    with use_case():
        dispatch.lock()
        shopping_list = shopping_lists.load(list_id)
        if by_saga:
            shopping_list.initiate_for_saga()
        else:
            shopping_list.initiate()
        shopping_lists.save(shopping_list)
        dispatch.dispatch()


def assign_shopping_list(*, list_id: str, bot_id: str) -> None:
    """Staff: give an available list to a chosen idle bot. Emits ShoppingListAssigned and BotAssigned.

    Checks, in order: list exists, bot id not blank, bot exists, E3 (list not available), bot idle
    (``the bot is not available``).
    """
    with use_case():
        dispatch.lock()
        shopping_list = shopping_lists.load(list_id)
        if not bot_id.strip():
            raise DomainError(domain.BOT_ID_BLANK)
        dispatch.assign(shopping_list, bots.load(bot_id))


def register_bot(*, name: str) -> str:
    """A new offline bot (E1 if the name is blank). Emits BotRegistered; returns its id."""
    with use_case():
        bot = Bot.register(new_id(), name=name)
        bots.create(bot)
    return bot.id


def bot_online(*, bot_id: str, acting_bot_id: str | None = None) -> None:
    """offline → idle (E2 otherwise), then dispatch. Emits BotWentOnline (→ BotAvailable)."""
    with use_case():
        dispatch.lock()
        bot = _bot_for(bot_id, acting_bot_id)
        bot.go_online()
        bots.save(bot)
        dispatch.dispatch()


def bot_offline(*, bot_id: str, acting_bot_id: str | None = None) -> None:
    """idle → offline (E3 when offline, E4 while shopping). Emits BotWentOffline (→ BotUnavailable)."""
    with use_case():
        dispatch.lock()
        bot = _bot_for(bot_id, acting_bot_id)
        bot.go_offline()
        bots.save(bot)


def dispatch_sweep() -> int:
    """The one-minute sweep: assign whatever dispatch missed. Returns the number of lists assigned."""
    with use_case():
        return dispatch.dispatch()


def _bot_for(bot_id: str, acting_bot_id: str | None) -> Bot:
    bot = bots.load(bot_id)
    if acting_bot_id is not None and acting_bot_id != bot.id:
        raise Forbidden(NOT_THIS_BOT)
    return bot


def start_shopping(*, list_id: str, acting_bot_id: str | None = None) -> None:
    """assigned → active (``=`` when active, E4 otherwise). Emits ShoppingListStarted."""
    with use_case():
        shopping_list = _load_for(list_id, acting_bot_id)
        shopping_list.start()
        shopping_lists.save(shopping_list)


def pick_item(*, list_id: str, product_id: str, quantity: int, acting_bot_id: str | None = None) -> None:
    """Set an item's picked quantity. Checks E5, 404 ``item not found``, E11/E12, E15. Emits ShoppingListItemPicked."""
    with use_case():
        shopping_list = _load_for(list_id, acting_bot_id)
        shopping_list.pick_item(product_id, quantity)
        shopping_lists.save(shopping_list)


def report_item_unavailable(*, list_id: str, product_id: str, acting_bot_id: str | None = None) -> None:
    """Picked quantity := 0. Checks E5, 404 ``item not found``. Emits ShoppingListItemUnavailable."""
    with use_case():
        shopping_list = _load_for(list_id, acting_bot_id)
        shopping_list.report_unavailable(product_id)
        shopping_lists.save(shopping_list)


def complete_shopping_list(*, list_id: str, acting_bot_id: str | None = None) -> None:
    """active → completed (E6 otherwise); never-reported items become unavailable; the bot is released.

    Emits ShoppingListItemUnavailable per never-reported item, then ShoppingListCompleted.
    """
    with use_case():
        shopping_list = _load_for(list_id, acting_bot_id)
        bot_id = shopping_list.complete()
        shopping_lists.save(shopping_list)
        _release_bot(bot_id=bot_id, list_id=list_id)


def cancel_shopping_list(*, list_id: str) -> None:
    """Staff: cancel an open list (E7 when completed or canceled); its bot is released. Emits ShoppingListCanceled."""
    with use_case():
        dispatch.lock()
        shopping_list = shopping_lists.load(list_id)
        bot_id = shopping_list.cancel()
        shopping_lists.save(shopping_list)
        _release_bot(bot_id=bot_id, list_id=list_id)


def cancel_shopping_list_for_saga(*, list_id: str) -> None:
    """Saga compensation: cancel (``=`` when already canceled, E7 when completed). Emits ShoppingListCanceled."""
    with use_case():
        dispatch.lock()
        shopping_list = shopping_lists.load(list_id)
        bot_id = shopping_list.cancel_for_saga()
        shopping_lists.save(shopping_list)
        _release_bot(bot_id=bot_id, list_id=list_id)


def cancel_shopping_list_for_order(*, order_id: str) -> None:
    """The order was cancelled or rejected: cancel its open list; no list or a closed one → nothing.

    Emits ShoppingListCanceled.
    """
    with use_case():
        list_id = ShoppingListRow.objects.filter(order_id=order_id).values_list("id", flat=True).first()
        if list_id is None:
            return
        dispatch.lock()
        shopping_list = shopping_lists.load(list_id)
        bot_id = shopping_list.cancel_for_order()
        shopping_lists.save(shopping_list)
        _release_bot(bot_id=bot_id, list_id=list_id)


def _load_for(list_id: str, acting_bot_id: str | None) -> ShoppingList:
    shopping_list = shopping_lists.load(list_id)
    if acting_bot_id is not None and shopping_list.assigned_bot_id != acting_bot_id:
        raise Forbidden(NOT_ASSIGNED_TO_BOT)
    return shopping_list


def _release_bot(*, bot_id: str, list_id: str) -> None:
    """Release ``bot_id`` (``""`` = no bot) from ``list_id`` in this transaction (BotReleased), then dispatch.

    A bot that is no longer on this list (or unknown) is left alone. Precondition: dispatch lock taken.
    """
    if not bot_id:
        return
    bot = bots.find(bot_id)
    if bot is not None and bot.release(list_id):
        bots.save(bot)
        dispatch.dispatch()
