"""Transaction boundaries (architecture.md §6): one per use case, one per consumed message.

A service function opens ``use_case()``. Called on its own (a REST command, the admin, a task) that is
its transaction. Called by a message handler it runs inside the message's transaction
(``message()``, opened by ``messaging.handle``), where a savepoint would only cost two round trips:
any error there rolls the whole message back, and a business rejection commits its Failure reply in a
transaction of its own (``messaging.Rejected``).
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Iterator

from django.db import transaction

_in_message: ContextVar[bool] = ContextVar("mallbots_in_message_transaction", default=False)


def use_case():
    """``transaction.atomic()`` for a service function; without a savepoint inside a message's transaction."""
    return transaction.atomic(savepoint=not _in_message.get())


@contextlib.contextmanager
def message(*, savepoint: bool = True) -> Iterator[None]:
    """The transaction of one consumed message (inbox row, handler, its writes)."""
    token = _in_message.set(True)
    try:
        with transaction.atomic(savepoint=savepoint):
            yield
    finally:
        _in_message.reset(token)
