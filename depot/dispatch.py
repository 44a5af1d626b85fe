"""Dispatch (product.md F7, architecture.md §6 rule 5): the oldest available list goes to the bot that
has been idle the longest.

Every depot use case that changes whether a list or a bot is available takes the transaction-scoped
advisory lock ``depot-dispatch`` first (``lock()``), and the ones that make one available run
``dispatch()`` before they commit. A list becoming available and a bot becoming idle in two concurrent
transactions therefore take turns, and the second sees what the first committed: they cannot both miss
each other, and two dispatchers (two consumer processes, the sweep and a handler) never hand one bot two
lists or one list two bots. The read models are written in the same transactions as the events, so
inside the lock they tell the aggregates' current state.
"""

from __future__ import annotations

import logging

from depot import domain
from depot.models import Bot as BotRow
from depot.models import ShoppingList as ShoppingListRow
from eventstore import rows, store
from eventstore.errors import DomainError
from eventstore.repository import Repository

logger = logging.getLogger("mallbots.depot.dispatch")

LOCK = "depot-dispatch"

shopping_lists = Repository(domain.ShoppingList)
bots = Repository(domain.Bot)


_NEXT_PAIR = (f"SELECT (SELECT id FROM {ShoppingListRow._meta.db_table} WHERE status = %s ORDER BY created_at, id LIMIT 1),"
              f" (SELECT id FROM {BotRow._meta.db_table} WHERE status = %s ORDER BY available_since, id LIMIT 1)")
"""The oldest available list and the bot idle the longest, in one statement (either ``NULL`` when there is none)."""


def lock() -> None:
    """Take the ``depot-dispatch`` lock until the transaction ends. Precondition: inside ``transaction.atomic()``.

    Deferred (``store.write``): the lock travels with the transaction's next statement, which runs once it is
    held, so everything read after ``lock()`` is read under it.
    """
    store.write("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK])


def assign(shopping_list: domain.ShoppingList, bot: domain.Bot) -> None:
    """List and bot change together in the caller's transaction (ShoppingListAssigned, BotAssigned).

    Raises E3 (list not available) before E5 (bot not idle); nothing is saved when either refuses.
    Precondition: ``lock()`` taken.
    """
    shopping_list.assign(bot.id)
    bot.assign(shopping_list.id)
    shopping_lists.save(shopping_list)
    bots.save(bot)


def dispatch(*, limit: int = 100) -> int:
    """Pair available lists (oldest first) with idle bots (idle longest first) until one side runs out.

    Takes the lock; runs in the caller's transaction. Returns how many lists were assigned.
    """
    lock()
    assigned = 0
    while assigned < limit:
        [(list_id, bot_id)] = rows.fetch(_NEXT_PAIR, [domain.AVAILABLE, domain.IDLE])
        if list_id is None or bot_id is None:
            break
        try:
            assign(shopping_lists.load(list_id), bots.load(bot_id))
        except DomainError as refused:
            logger.warning("dispatch: list %s and bot %s could not be paired: %s", list_id, bot_id, refused.message)
            break
        assigned += 1
    return assigned
