"""The order board's feed (architecture.md §10): one core NATS subscription per web process, fanned out to the
process's board sockets through the in-memory channel layer group ``board``.

``feed()`` returns the running event loop's ``Feed``, creating it on the first board connection: a task
that connects (retrying until NATS answers), subscribes to ``mallbots.ordering.events.Order`` without a
durable or acks, and for each order event reads the order's search row once and sends the ``update`` text
to the group. NATS delivers nothing while it is away: after any outage (a failed first connection, a
disconnect) and after NATS dropped messages for a slow subscriber, the feed sends the group a fresh
``snapshot`` once the subscription is back. (What the channel layer drops for a socket that does not read
in time, the page's periodic resync repairs.) ``stop_feed()`` closes the connection (ASGI lifespan shutdown,
tests).

``snapshot_text()`` and ``update_text()`` are synchronous (they read the database); callers on the event
loop run them with ``database_sync_to_async``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError
from nats.errors import SlowConsumerError

from eventstore import codec
from eventstore import nats as mallbots_nats
from eventstore.backoff import Backoff
from eventstore.envelope import Envelope, MalformedMessage
from ordering.contracts import ORDER_EVENTS
from search import domain, selectors

logger = logging.getLogger("mallbots.board")

GROUP = "board"
SEND = "board.send"
"""Channel-layer message type: ``{"type": SEND, "text": <JSON text for the socket>}``."""
SETTLE_TIMEOUT_SECONDS = 3.0
"""A new socket waits at most this long for the feed's first connection attempt before its snapshot."""


def snapshot_text(now: dt.datetime | None = None) -> str:
    """``{"type": "snapshot", "orders": [BoardOrder]}`` from the search read model."""
    since = (now or codec.utcnow()) - dt.timedelta(minutes=settings.BOARD_RECENT_MINUTES)
    orders = [domain.board_order(order_id=row.order_id, customer_name=row.customer_name, status=row.status,
                                 total=row.total, item_count=domain.item_count(row.items),
                                 updated_at=codec.format_timestamp(row.updated_at))
              for row in selectors.board_orders(updated_since=since)]
    return codec.dumps({"type": "snapshot", "orders": orders})


def update_text(envelope: Envelope) -> str | None:
    """The ``update`` text for an order event; ``None`` for other messages. Without a database the fields of the
    search row stay empty (the event's own fields still go out)."""
    if envelope.name not in domain.STATUS_AFTER:
        return None
    order_id = str(envelope.payload.get("id") or "")
    try:
        row = selectors.board_row(order_id)
    except DatabaseError as exc:
        logger.warning("board: no search row for %s (%s)", order_id, exc)
        row = None
    updated_at = str(envelope.metadata.get("occurred_at") or envelope.sent_at)
    return codec.dumps(domain.board_update(name=envelope.name, payload=envelope.payload, updated_at=updated_at,
                                           row=row))


class Feed:
    """The process's subscription; created on the event loop it serves (see ``feed()``)."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.layer = get_channel_layer()
        self.client = None
        self.settled = asyncio.Event()
        self.missed = False
        self.resyncing: asyncio.Task | None = None
        self.task = self.loop.create_task(self._run(), name="board-feed")

    async def wait_settled(self, timeout: float = SETTLE_TIMEOUT_SECONDS) -> None:
        """Until the subscription is in place or the first attempt to connect failed (at most ``timeout``)."""
        try:
            await asyncio.wait_for(self.settled.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    async def _run(self) -> None:
        backoff = Backoff(30.0, first=0.5)
        while True:
            try:
                self.client = await mallbots_nats.connect(
                    name=f"mallbots-board:{os.getpid()}", error_cb=self._error,
                    disconnected_cb=self._disconnected, reconnected_cb=self._reconnected)
                await self.client.subscribe(ORDER_EVENTS, cb=self._on_message)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a bad URL or a refused login: keep trying, as the relay does
                self._lost(f"cannot subscribe: {type(exc).__name__}: {exc}")
                await self._close_client()
                await asyncio.sleep(backoff.next())
        try:
            await self.client.flush(timeout=2)
        except Exception as exc:  # noqa: BLE001 - the subscription is sent again after a reconnect
            self._lost(f"subscription not confirmed: {exc}")
        self.settled.set()
        logger.info("board: subscribed to %s", ORDER_EVENTS)
        if self.missed:
            await self._resync()

    def _lost(self, reason: str) -> None:
        if not self.missed:
            logger.warning("board: NATS unavailable (%s); the board sockets get a snapshot once it is back", reason)
        self.missed = True
        self.settled.set()

    async def _error(self, exc: Exception) -> None:
        """nats-py's report of a failed (re)connection attempt, or of a problem while connected."""
        if isinstance(exc, SlowConsumerError):
            logger.warning("board: NATS dropped order events for this process (slow consumer); resyncing the boards")
            self.resyncing = self.loop.create_task(self._resync(), name="board-resync")
        elif self.client is not None and self.client.is_connected:
            logger.warning("board: %s: %s", type(exc).__name__, exc)
        else:
            self._lost(f"{type(exc).__name__}: {exc}")

    async def _disconnected(self) -> None:
        if self.client is not None and not self.client.is_closed:
            self._lost("disconnected")

    async def _reconnected(self) -> None:
        logger.info("board: NATS reconnected")
        self.resyncing = self.loop.create_task(self._resync(), name="board-resync")

    async def _resync(self) -> None:
        """Every socket of the process gets a fresh snapshot (events of the outage were not delivered)."""
        self.missed = False
        try:
            text = await database_sync_to_async(snapshot_text)()
        except DatabaseError as exc:
            logger.warning("board: no snapshot after the outage (%s); the boards resync on their own within minutes",
                           exc)
            return
        await self.layer.group_send(GROUP, {"type": SEND, "text": text})

    async def _on_message(self, msg) -> None:
        try:
            envelope = Envelope.from_json(msg.data)
            text = await database_sync_to_async(update_text)(envelope)
        except MalformedMessage as exc:
            logger.warning("board: skipped a message on %s: %s", msg.subject, exc)
            return
        except Exception:  # noqa: BLE001 - one odd message must not stop the board
            logger.exception("board: could not forward a message on %s", msg.subject)
            return
        if text is not None:
            await self.layer.group_send(GROUP, {"type": SEND, "text": text})

    async def _close_client(self) -> None:
        client, self.client = self.client, None
        if client is not None and not client.is_closed:
            try:
                await asyncio.wait_for(client.close(), timeout=5)
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    async def stop(self) -> None:
        for task in (self.task, self.resyncing):
            if task is None:
                continue
            task.cancel()
            try:
                await task
            except BaseException:  # noqa: BLE001 - cancelled, or failed before: either way it is over
                pass
        await self._close_client()


_feed: Feed | None = None


def feed() -> Feed:
    """The running event loop's feed, started on first use (one per web process: uvicorn runs one loop)."""
    global _feed
    if _feed is None or _feed.loop is not asyncio.get_running_loop():
        _feed = Feed()
    return _feed


async def stop_feed() -> None:
    """Close this loop's feed, if there is one."""
    global _feed
    current, _feed = _feed, None
    if current is not None and current.loop is asyncio.get_running_loop():
        await current.stop()
