"""Django's PostgreSQL backend, sending a transaction's statements in fewer messages (ADR 12).

Two changes to how statements reach the server, none to what they do:

- ``BEGIN`` is not a message of its own. ``transaction.atomic()`` marks it pending (the psycopg
  connection stays in autocommit) and it travels in front of the block's first statement; a block
  that sent nothing commits or rolls back without a word to the server.
- A write whose result nobody reads (``defer``: the event store's and outbox's inserts) waits on the
  connection and travels in front of the next statement, or with ``COMMIT``. So every statement of
  the transaction still runs, in the order it was issued, before anything reads the database. An
  error in a deferred write surfaces at that next statement or at commit; its ``translate`` callback
  may turn it into the kernel's exception (a version clash into ``VersionConflict``), which is a
  ``DatabaseError`` so the transaction rolls back as before.

- ``SAVEPOINT`` (a nested ``atomic()``) waits the same way, for the block's first statement or its
  ``RELEASE``; a savepoint that nothing followed is never sent, and rolling back to one not sent yet drops
  it with what was queued after it.

Statements are joined as text and sent with the simple query protocol, which Django's default client-side
binding cursors use anyway; a server-side cursor or a cursor without ``mogrify`` sends what is pending first,
as a message of its own.

Two shapes go further (ADR 35), each its own transaction in autocommit and a prepared statement, so the server
neither parses nor plans it again:

- A transaction that sent nothing before its commit and whose deferred writes are all ``combinable`` (plain
  inserts that cannot see each other: the event store's and the outbox's) is one statement (``one_statement``):
  one insert per table, ``WITH w0 AS (INSERT …) INSERT …`` for two. A single statement is atomic, so saving a
  new aggregate with its outbox row is one round trip with no ``BEGIN`` or ``COMMIT`` to parse.
- A plain read (no locks) while only ``BEGIN`` is pending runs ahead of it (``fetch_prepared``), under READ
  COMMITTED only: there each statement of a transaction takes its own snapshot, so a read that locks nothing
  sees the same committed rows inside the transaction or just before it. ``BEGIN`` then waits for the first
  write or locking read.

A forked child never uses the connections or the pool it inherited (ADR 11): after ``os.fork()`` it
forgets them, without closing them (that would end the parent's sessions), and opens its own on first use.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterator, Sequence

from django.db import DatabaseError, connections
from django.db.backends.postgresql import base
from django.db.backends.utils import CursorWrapper as DjangoCursorWrapper, debug_transaction
from psycopg import ClientCursor, Cursor as ServerBindingCursor

Translate = Callable[[DatabaseError], Exception | None]
"""As ``eventstore.store.Translate``; the backend does not import the store it serves."""


@dataclass(frozen=True)
class Deferred:
    sql: str
    params: Sequence[Any] | None
    translate: Translate | None
    combinable: bool = False


def one_statement(writes: Sequence[tuple[str, Sequence[Any]]]) -> tuple[str, list[Any]]:
    """``writes``, each ``INSERT INTO <table> (<columns>) VALUES <rows>`` with ``%s`` placeholders, as one statement.

    The rows of the inserts with the same ``INSERT INTO … VALUES`` part become one insert, in the order they were
    issued, so each table's serial columns number them as separate inserts would. The inserts of different tables
    become data-modifying ``WITH`` parts of the last, whose order of execution PostgreSQL leaves open: no write
    may read another's effect (they share the statement's snapshot), and no order across tables is kept.
    """
    sql, order = _one_statement(tuple(sql for sql, _ in writes))
    return sql, [param for index in order for param in writes[index][1]]


@lru_cache(maxsize=256)
def _one_statement(texts: tuple[str, ...]) -> tuple[str, tuple[int, ...]]:
    """The statement for writes with these texts, and the order in which their parameters go into it."""
    tables: dict[str, list[tuple[int, str]]] = {}
    for index, sql in enumerate(texts):
        into, values = sql.split(" VALUES ", 1)
        tables.setdefault(into, []).append((index, values))
    inserts = [f"{into} VALUES " + ", ".join(values for _, values in parts) for into, parts in tables.items()]
    sql = inserts[-1] if len(inserts) == 1 else (
        "WITH " + ", ".join(f"w{i} AS ({part})" for i, part in enumerate(inserts[:-1])) + " " + inserts[-1])
    return sql, tuple(index for parts in tables.values() for index, _ in parts)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._begin_pending = False
        self._deferred: list[Deferred] = []
        self._elided: set[str] = set()
        self._binding_cursor: ServerBindingCursor | None = None

    def defer(self, sql: str, params: Sequence[Any], translate: Translate | None = None, *,
              combinable: bool = False) -> None:
        """Queue a write whose result is never read; it runs before the next statement or at commit.

        Precondition: inside ``transaction.atomic()`` (the write belongs to that transaction). Like any
        statement, it raises ``TransactionManagementError`` once Django marked the transaction for rollback,
        so the write can never be dropped while the caller goes on as if it would commit. ``combinable``: a plain
        ``INSERT INTO <table> (<columns>) VALUES <rows>`` (nothing after the rows) whose effect no other write of
        the transaction reads, so it may run as a part of one statement with them (``one_statement``).
        """
        if not self.in_atomic_block:
            raise RuntimeError("deferred writes belong to a transaction: use transaction.atomic()")
        self.validate_no_broken_transaction()
        self._deferred.append(Deferred(sql, params, translate, combinable))

    @property
    def reads_ahead(self) -> bool:
        """Whether a plain read now may run ahead of the transaction: only ``BEGIN`` is pending, under READ
        COMMITTED (module docstring)."""
        return (self._begin_pending and not self._deferred
                and self.isolation_level == base.IsolationLevel.READ_COMMITTED)

    @property
    def has_pending(self) -> bool:
        return self._begin_pending or bool(self._deferred)

    def send_pending(self) -> None:
        """Send a pending ``BEGIN`` and the deferred writes now, as one message."""
        if self.has_pending:
            with self.connection.cursor() as cursor:
                self._send(cursor)

    def _send(self, cursor, statement: str | None = None, *, log_statement: bool = True) -> None:
        """Run pending ``BEGIN``, deferred writes and ``statement`` as one message; the cursor ends on its result.

        With queries logged (``DEBUG``, ``CaptureQueriesContext``) each deferred write and the statement
        get an entry of their own, as if sent one by one.
        """
        begin, deferred = self._begin_pending, self._deferred
        self._begin_pending, self._deferred = False, []
        start, writes = time.monotonic(), []
        try:
            with self._translating(deferred):
                writes = [item.sql if item.params is None else _mogrify(self, cursor, item.sql, item.params)
                          for item in deferred]
                tail = [statement] if statement is not None else []
                cursor.execute("; ".join((["BEGIN"] if begin else []) + writes + tail))
                while cursor.nextset():
                    pass
        finally:
            if self.queries_logged:
                logged = writes + ([statement] if statement is not None and log_statement else [])
                duration = "%.3f" % (time.monotonic() - start)
                self.queries_log.extend({"sql": sql, "time": duration} for sql in logged)

    def _send_as_one_statement(self) -> None:
        """Run the deferred writes of a transaction that sent nothing else as one prepared statement, in autocommit
        (its own transaction); a write's ``translate`` applies as in ``_send``."""
        deferred = self._deferred
        self._begin_pending, self._deferred = False, []
        sql, params = one_statement([(item.sql, item.params) for item in deferred])
        start = time.monotonic()
        try:
            with self._translating(deferred):
                self._server_binding_cursor().execute(sql, params)
        finally:
            if self.queries_logged:
                duration = "%.3f" % (time.monotonic() - start)
                with ClientCursor(self.connection) as cursor:
                    self.queries_log.extend({"sql": cursor.mogrify(item.sql, item.params), "time": duration}
                                            for item in deferred)

    @contextlib.contextmanager
    def _translating(self, deferred: list[Deferred]) -> Iterator[None]:
        """Database errors in the block as Django's, turned into a deferred write's own error by its ``translate``."""
        try:
            with self.wrap_database_errors:
                yield
        except DatabaseError as exc:
            for item in deferred:
                translated = item.translate(exc) if item.translate else None
                if translated is not None:
                    raise translated from exc
            raise

    def _server_binding_cursor(self) -> ServerBindingCursor:
        """One server-side binding cursor per psycopg connection, kept: a new one per statement would build its
        adapters again (about a third of psycopg's time per statement here)."""
        cursor = self._binding_cursor
        if cursor is None or cursor.connection is not self.connection or cursor.closed:
            cursor = self._binding_cursor = ServerBindingCursor(self.connection)
        return cursor

    def fetch_prepared(self, sql: str, params: Sequence[Any], *, locks: bool = False) -> list[tuple]:
        """The rows of a read sent as a prepared statement: the server parses and plans ``sql`` once per connection
        and each call sends only the parameters (extended protocol, server-side binding).

        For fixed reads (the bearer token, ``eventstore.rows``, the event store's loads). A read that takes no row
        ``locks`` runs ahead of a pending ``BEGIN`` when ``reads_ahead``; otherwise what is pending goes first, as a
        message of its own. Database errors and the query log behave as for a Django cursor.
        """
        self.ensure_connection()
        self.validate_no_broken_transaction()
        if locks or not self.reads_ahead:
            self.send_pending()
        start = time.monotonic()
        try:
            with self.wrap_database_errors:
                cursor = self._server_binding_cursor()
                cursor.execute(sql, params, prepare=True)
                return cursor.fetchall()
        finally:
            if self.queries_logged:
                self.queries_log.append({"sql": f"{sql} -- prepared, params {list(params)!r}",
                                         "time": "%.3f" % (time.monotonic() - start)})

    def _start_transaction_under_autocommit(self):
        self._begin_pending = True

    def _set_autocommit(self, autocommit):
        if self.connection.autocommit != autocommit:
            super()._set_autocommit(autocommit)

    def _commit(self):
        self._elided.clear()
        if self.connection is None:
            return None
        if self._deferred and self._begin_pending and all(item.combinable for item in self._deferred):
            self._send_as_one_statement()
            return None
        if self._deferred:
            with debug_transaction(self, "COMMIT"):
                with self.connection.cursor() as cursor:
                    self._send(cursor, "COMMIT", log_statement=False)
            return None
        if self._begin_pending:
            self._begin_pending = False
            return None
        return super()._commit()

    def _rollback(self):
        self._deferred = []
        self._elided.clear()
        if self._begin_pending:
            self._begin_pending = False
            return None
        return super()._rollback()

    def _savepoint(self, sid):
        """Defer ``SAVEPOINT`` to the next statement when nothing but ``BEGIN`` is pending (a write queued before
        it is sent first, with the ``SAVEPOINT``, so its error surfaces outside the savepoint as before)."""
        if self._deferred:
            return super()._savepoint(sid)
        self._deferred.append(Deferred(self.ops.savepoint_create_sql(sid), None, None))
        return None

    def _savepoint_rollback(self, sid):
        """A savepoint not sent yet: drop it and what was queued after it; else roll back to it on the server."""
        index = self._unsent_savepoint(sid)
        if index is not None:
            del self._deferred[index:]
            self._elided.add(sid)
            return None
        self._deferred = []
        return super()._savepoint_rollback(sid)

    def _savepoint_commit(self, sid):
        """A savepoint that nothing followed is dropped, one already dropped by its rollback (``Atomic`` releases
        after rolling back) forgotten; otherwise ``RELEASE`` goes now, with what is pending (a savepoint not
        sent yet goes in front of its writes, so an error in one of them still rolls back to it)."""
        if sid in self._elided:
            self._elided.discard(sid)
            return None
        index = self._unsent_savepoint(sid)
        if index is not None and index == len(self._deferred) - 1:
            del self._deferred[index]
            return None
        return super()._savepoint_commit(sid)

    def _unsent_savepoint(self, sid) -> int | None:
        create = self.ops.savepoint_create_sql(sid)
        for index, item in enumerate(self._deferred):
            if item.params is None and item.sql == create:
                return index
        return None

    def _close(self):
        self._begin_pending, self._deferred, self._binding_cursor = False, [], None
        return super()._close()

    def make_cursor(self, cursor):
        return CursorWrapper(cursor, self)

    def make_debug_cursor(self, cursor):
        return CursorDebugWrapper(cursor, self)


_inherited: list[Any] = []
"""What a forked child inherited, kept referenced so that no finaliser touches the parent's sessions."""


def _forget_inherited_connections() -> None:
    for db in connections.all(initialized_only=True):
        if db.connection is not None:
            _inherited.append(db.connection)
            db.connection = None
        if isinstance(db, DatabaseWrapper):
            db._begin_pending, db._deferred, db._binding_cursor = False, [], None
    _inherited.extend(DatabaseWrapper._connection_pools.values())
    DatabaseWrapper._connection_pools.clear()


os.register_at_fork(after_in_child=_forget_inherited_connections)


def _mogrify(db: DatabaseWrapper, cursor, sql: str, params: Sequence[Any]) -> str:
    """``sql`` with ``params`` merged in, as client-side binding sends it."""
    if not hasattr(cursor, "mogrify"):
        cursor = ClientCursor(db.connection)
    return cursor.mogrify(sql, params)


class PendingFirst:
    """Cursor behaviour: what the connection holds pending goes to the server before, or with, a statement."""

    def _combines(self) -> bool:
        return not getattr(self.cursor, "name", None) and hasattr(self.cursor, "mogrify")

    def _execute(self, sql, params, *ignored_wrapper_args):
        db = self.db
        if not db.has_pending:
            return super()._execute(sql, params, *ignored_wrapper_args)
        if not self._combines():
            db.send_pending()
            return super()._execute(sql, params, *ignored_wrapper_args)
        db.validate_no_broken_transaction()
        with db.wrap_database_errors:
            statement = sql if params is None else self.cursor.mogrify(sql, params)
        db._send(self.cursor, statement)
        return self.cursor

    def _executemany(self, sql, param_list, *ignored_wrapper_args):
        self.db.send_pending()
        return super()._executemany(sql, param_list, *ignored_wrapper_args)

    def callproc(self, procname, params=None, kparams=None):
        self.db.send_pending()
        return super().callproc(procname, params, kparams)


class CursorWrapper(PendingFirst, DjangoCursorWrapper):
    def copy(self, statement, *args, **kwargs):
        self.db.send_pending()
        return self.cursor.copy(statement, *args, **kwargs)


class CursorDebugWrapper(PendingFirst, base.CursorDebugWrapper):
    def execute(self, sql, params=None):
        if self.db.has_pending and self._combines():
            return DjangoCursorWrapper.execute(self, sql, params)
        return super().execute(sql, params)

    def copy(self, statement):
        self.db.send_pending()
        return super().copy(statement)
