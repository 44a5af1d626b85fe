"""What a bearer token's read found, kept in a web worker between requests while access cannot change unseen
(ADR 33).

Every API request reads its token, the token's staff user and the user's roles (``tokens._token_by_hash``);
the answer changes only when a token, a user or a role membership does. Triggers on those tables
(``access`` migration 0002) ``NOTIFY mallbots_access`` at commit; each web worker's event loop listens on a
connection of its own (``listen``, started by the ASGI lifespan) and empties its cache on every notification.

The cache serves only while that listener is connected: it starts empty and unused, turns on once ``LISTEN``
is in place, and turns off (emptied) when the connection fails, until a new one listens. A read that began
before an emptying is not kept (``Cache.generation``), so a row read just before a revocation cannot outlive
it. Entries also expire after ``ACCESS_TOKEN_CACHE_SECONDS`` (0: no cache). Outside the web tier (tests with
Django's client, management commands) nothing listens and every request reads the database, as before.

Only found tokens are kept (an unknown token is read each time), at most ``MAX_ENTRIES``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, Callable

import psycopg

CHANNEL = "mallbots_access"
MAX_ENTRIES = 10_000
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)
CHECK_SECONDS, CHECK_TIMEOUT_SECONDS = 10.0, 5.0

logger = logging.getLogger("mallbots.access")


class Cache:
    """Rows of ``tokens._TOKEN_BY_HASH`` by token hash. ``get`` is lock-free; ``put``, ``touch`` and ``empty``
    take a lock so that emptying (the loop's thread) and keeping (a request's thread) cannot interleave."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.live = False
        self.generation = 0
        self.entries: dict[str, tuple[float, tuple]] = {}
        self.lock = threading.Lock()

    def get(self, token_hash: str) -> tuple | None:
        if not self.live:
            return None
        entry = self.entries.get(token_hash)
        if entry is None or self.clock() - entry[0] > self.seconds:
            return None
        return entry[1]

    def put(self, token_hash: str, row: tuple, generation: int) -> None:
        """Keep ``row``, read after ``generation`` was current, unless the cache was emptied since."""
        with self.lock:
            if self.live and generation == self.generation and self.seconds > 0:
                if len(self.entries) >= MAX_ENTRIES:
                    self.entries.clear()
                self.entries[token_hash] = (self.clock(), row)

    def touch(self, token_hash: str, index: int, value: Any) -> None:
        """Replace column ``index`` of a kept row (``last_used_at`` after the request recorded it)."""
        with self.lock:
            entry = self.entries.get(token_hash)
            if entry is not None:
                row = list(entry[1])
                row[index] = value
                self.entries[token_hash] = (entry[0], tuple(row))

    def empty(self, *, live: bool | None = None) -> None:
        """Forget every row (and any read in flight); ``live`` turns serving on or off."""
        with self.lock:
            self.generation += 1
            self.entries.clear()
            if live is not None:
                self.live = live


cache = Cache(0.0)


def configure() -> Cache:
    """The process's cache with ``ACCESS_TOKEN_CACHE_SECONDS`` from the settings."""
    from django.conf import settings

    cache.seconds = settings.ACCESS_TOKEN_CACHE_SECONDS
    return cache


async def listen(target: Cache, db_params: dict[str, Any], stopping: asyncio.Event) -> None:
    """Keep ``target`` live while a ``LISTEN`` connection is up; empty it on each notification; reconnect
    with a growing pause after a failure, serving nothing meanwhile. Returns when ``stopping`` is set.

    Every ``CHECK_SECONDS`` the connection must answer a ``SELECT 1`` within ``CHECK_TIMEOUT_SECONDS``: a
    connection that died without an error (an idle TCP connection dropped by a firewall) would otherwise
    keep the cache live while notifications no longer arrive."""
    failures = 0
    try:
        while not stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(**db_params, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    target.empty(live=True)
                    failures = 0
                    checked = time.monotonic()
                    while not stopping.is_set():
                        async for _ in conn.notifies(timeout=1.0):
                            target.empty()
                        if time.monotonic() - checked >= CHECK_SECONDS:
                            await asyncio.wait_for(conn.execute("SELECT 1"), timeout=CHECK_TIMEOUT_SECONDS)
                            checked = time.monotonic()
            except Exception as exc:  # noqa: BLE001 - whatever failed, serve nothing until listening again
                target.empty(live=False)
                pause = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                logger.warning("token cache off: %s: %s; listening again in %.1fs", type(exc).__name__, exc, pause)
                try:
                    await asyncio.wait_for(stopping.wait(), timeout=pause)
                except asyncio.TimeoutError:
                    pass
    finally:
        target.empty(live=False)


class Listener:
    """The web worker's ``listen`` task (ASGI lifespan): ``start`` when the worker starts, ``stop`` at shutdown."""

    def __init__(self) -> None:
        self.task: asyncio.Task | None = None
        self.stopping: asyncio.Event | None = None

    def start(self) -> None:
        target = configure()
        if target.seconds <= 0 or self.task is not None:
            return
        from eventstore.relay import database_params

        self.stopping = asyncio.Event()
        params = {**database_params(), "application_name": "mallbots-token-cache"}
        self.task = asyncio.get_running_loop().create_task(listen(target, params, self.stopping))

    async def stop(self) -> None:
        if self.task is None:
            return
        self.stopping.set()
        try:
            await asyncio.wait_for(self.task, timeout=5)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self.task.cancel()
        self.task = None
        cache.empty(live=False)


listener = Listener()
