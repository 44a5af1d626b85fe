"""The consumer runner (architecture.md §8): JetStream durable pull consumers feeding ``messaging.handle``.

One asyncio task per durable fetches up to ``CONSUMER_FETCH_BATCH`` messages at a time and hands the batch
to a dedicated worker thread of that durable (sync Django code). ``process_batch()`` handles a batch of
first deliveries in one shared transaction (each message still inbox first, in stream order; one commit
and then every ack: group commit); if the batch holds anything else, or any of its handlers fails, the
shared transaction rolls back and each message goes through ``process()`` in its own transaction, which
decides what becomes of it; the task then acks, naks or terminates it:

1. unparseable envelope → dead letter + term;
2. a name the durable does not handle → ack;
3. delivery count above ``CONSUMER_MAX_DELIVER`` → dead letter + term, the handler is not run;
4. ``messaging.handle`` (inbox first, one transaction) → ack after commit; ``MalformedMessage`` → dead
   letter + term;
5. ``RetryLater`` or any other error → nak with ``CONSUMER_BACKOFF_SECONDS[delivery]``; at the last
   allowed delivery → dead letter + term;
6. the database not answering → nak with delay, naks the rest of the batch, and the durable stops
   fetching until the database answers again. Deliveries spent on an outage are not counted towards
   the dead-letter limit (tracked in memory per stream sequence).

Test hook: ``CONSUMER_CRASH_AFTER_COMMIT=1`` in the environment makes the process ``os._exit(70)`` right
after the first handler transaction commits, before the ack (crash-between-commit-and-ack tests).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import nats.js.errors
from django.conf import settings
from django.db import DataError, InterfaceError, OperationalError, close_old_connections, connection, transaction
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from eventstore import context, messaging
from eventstore import nats as mallbots_nats
from eventstore.envelope import Envelope, MalformedMessage

logger = logging.getLogger("mallbots.consumers")

DATABASE_DOWN = (OperationalError, InterfaceError)
FETCH_TIMEOUT_SECONDS = 1.0
BACKLOG_FETCH_TIMEOUT_SECONDS = 0.01
MAX_RETRY_PAUSE_SECONDS = 10.0
MAX_DATABASE_POLL_SECONDS = 5.0
CRASH_AFTER_COMMIT = "CONSUMER_CRASH_AFTER_COMMIT"
CRASH_EXIT_STATUS = 70


class DeliveryLimitExceeded(Exception):
    """The broker delivered the message more often than ``CONSUMER_MAX_DELIVER`` allows."""


@dataclass(frozen=True)
class Verdict:
    """What to tell the broker about one message: ``ack``, ``term``, ``nak`` or ``outage`` (nak + pause)."""

    action: str
    outcome: str
    delay: float = 0.0


@dataclass(frozen=True)
class Delivered:
    """One fetched message as the worker thread sees it."""

    data: bytes
    delivery: int
    subject: str = ""
    message_id: str = ""


STOPPING = Verdict("nak", "stopping")


def backoff_seconds(delivery: int) -> float:
    delays = settings.CONSUMER_BACKOFF_SECONDS or [1.0]
    return float(delays[min(max(delivery, 1), len(delays)) - 1])


def consumer_config(durable: messaging.Durable) -> ConsumerConfig:
    """Explicit ack, deliver all, ack wait from settings, one filter subject, no server-side max deliver."""
    return ConsumerConfig(
        name=durable.name,
        durable_name=durable.name,
        filter_subject=durable.subject,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=float(settings.CONSUMER_ACK_WAIT_SECONDS),
        max_deliver=-1,
    )


def database_answers() -> bool:
    """Open a fresh connection in this thread and run ``SELECT 1``."""
    try:
        connection.close()
    except DATABASE_DOWN:
        pass
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DATABASE_DOWN:
        return False


def process(durable: messaging.Durable, data: bytes, *, delivery: int, subject: str = "",
            message_id: str = "") -> Verdict:
    """Handle one delivered message in the calling (worker) thread; return what to tell the broker.

    ``delivery`` is the delivery count that counts towards ``CONSUMER_MAX_DELIVER``. ``message_id`` names
    an unparseable message in its dead letter (the ``Nats-Msg-Id`` header or the stream sequence).
    """
    started = time.monotonic()
    envelope: Envelope | None = None
    try:
        close_old_connections()
        envelope = Envelope.from_json(data)
        verdict = _decide(durable, envelope, delivery)
    except MalformedMessage as exc:
        verdict = _dead_letter(durable, envelope, data, subject, message_id, delivery, exc)
    except DATABASE_DOWN:
        verdict = (Verdict("nak", "retry", backoff_seconds(delivery)) if database_answers()
                   else Verdict("outage", "db-unavailable", backoff_seconds(delivery)))
    except Exception:  # noqa: BLE001 - never leave a message without an answer
        logger.exception("%s: unexpected error around message %s", durable.name, message_id)
        verdict = Verdict("nak", "retry", backoff_seconds(delivery))
    finally:
        try:
            close_old_connections()
        except DATABASE_DOWN:
            pass
    _log(durable, envelope, message_id, verdict, started)
    return verdict


def process_batch(durable: messaging.Durable, batch: list[Delivered], *,
                  stopping: Callable[[], bool] = lambda: False) -> list[Verdict]:
    """Handle a fetched batch in the calling (worker) thread; return one verdict per message, in order.

    Two or more first deliveries that all parse share one transaction (``_together``). Otherwise, or if
    that transaction fails for any reason, each message goes through ``process()`` on its own; after an
    ``outage`` verdict, or once ``stopping()`` is true, the rest are not run (``outage`` / ``STOPPING``).
    """
    if len(batch) > 1 and not stopping():
        verdicts = _together(durable, batch)
        if verdicts is not None:
            return verdicts
    verdicts: list[Verdict] = []
    for item in batch:
        if verdicts and verdicts[-1].action == "outage":
            verdicts.append(verdicts[-1])
        elif stopping():
            verdicts.append(STOPPING)
        else:
            verdicts.append(process(durable, item.data, delivery=item.delivery, subject=item.subject,
                                    message_id=item.message_id))
    return verdicts


def _together(durable: messaging.Durable, batch: list[Delivered]) -> list[Verdict] | None:
    """One transaction for the whole batch, inbox row first for each message; ``None`` means "one by one"."""
    if any(item.delivery != 1 for item in batch):
        return None
    started = time.monotonic()
    try:
        envelopes = [Envelope.from_json(item.data) for item in batch]
    except MalformedMessage:
        return None
    try:
        close_old_connections()
        with transaction.atomic():
            outcomes = [messaging.handle(durable, envelope, savepoint=False) for envelope in envelopes]
    except Exception as exc:  # noqa: BLE001 - every message is retried on its own, which decides its fate
        logger.info("%s: batch of %s rolled back (%s: %s); handling one by one", durable.name, len(batch),
                    type(exc).__name__, exc)
        return None
    finally:
        try:
            close_old_connections()
        except DATABASE_DOWN:
            pass
    if messaging.Outcome.HANDLED in outcomes and os.environ.get(CRASH_AFTER_COMMIT) == "1":
        _crash(durable)
    verdicts = [Verdict("ack", outcome.value) for outcome in outcomes]
    for envelope, item, verdict in zip(envelopes, batch, verdicts):
        _log(durable, envelope, item.message_id, verdict, started)
    return verdicts


def _crash(durable: messaging.Durable) -> None:
    logger.warning("%s: %s set, exiting after commit before the ack", durable.name, CRASH_AFTER_COMMIT)
    logging.shutdown()
    os._exit(CRASH_EXIT_STATUS)


def _decide(durable: messaging.Durable, envelope: Envelope, delivery: int) -> Verdict:
    if envelope.name not in durable.handlers:
        return Verdict("ack", "skipped")
    if delivery > settings.CONSUMER_MAX_DELIVER:
        exc = DeliveryLimitExceeded(f"delivered {delivery} times; the limit is {settings.CONSUMER_MAX_DELIVER}")
        return _dead_letter(durable, envelope, b"", envelope.subject, "", delivery, exc)
    try:
        outcome = messaging.handle(durable, envelope, delivery=delivery)
    except MalformedMessage:
        raise
    except DATABASE_DOWN as exc:
        if not database_answers():
            logger.warning("%s: database unavailable (%s); pausing", durable.name, exc)
            return Verdict("outage", "db-unavailable", backoff_seconds(delivery))
        return _retry_or_dead_letter(durable, envelope, delivery, exc)
    except Exception as exc:  # noqa: BLE001 - every handler error is retried, then dead-lettered
        return _retry_or_dead_letter(durable, envelope, delivery, exc)
    if outcome is messaging.Outcome.HANDLED and os.environ.get(CRASH_AFTER_COMMIT) == "1":
        _crash(durable)
    return Verdict("ack", outcome.value)


def _retry_or_dead_letter(durable: messaging.Durable, envelope: Envelope, delivery: int,
                          exc: BaseException) -> Verdict:
    if delivery >= settings.CONSUMER_MAX_DELIVER:
        return _dead_letter(durable, envelope, b"", envelope.subject, "", delivery, exc)
    logger.warning("%s: %s %s failed on delivery %s: %s: %s", durable.name, envelope.name, envelope.id,
                   delivery, type(exc).__name__, exc)
    return Verdict("nak", "retry", backoff_seconds(delivery))


def _dead_letter(durable: messaging.Durable, envelope: Envelope | None, raw: bytes, subject: str,
                 message_id: str, delivery: int, exc: BaseException) -> Verdict:
    """Write the dead letter in its own transaction; if the database is down, nak and pause instead."""
    logger.error("%s: dead letter for %s: %s: %s", durable.name, envelope.id if envelope else message_id or "?",
                 type(exc).__name__, exc)
    try:
        try:
            messaging.record_dead_letter(durable.name, envelope=envelope, raw=raw, subject=subject,
                                         message_id=message_id, deliveries=delivery, exc=exc)
        except DataError:
            messaging.record_dead_letter(durable.name, envelope=None, raw=envelope.to_json() if envelope else raw,
                                         subject=subject, message_id=message_id, deliveries=delivery, exc=exc)
    except DATABASE_DOWN:
        if not database_answers():
            return Verdict("outage", "db-unavailable", backoff_seconds(delivery))
        return Verdict("nak", "retry", backoff_seconds(delivery))
    return Verdict("term", "dead-lettered")


def _log(durable: messaging.Durable, envelope: Envelope | None, message_id: str, verdict: Verdict,
         started: float) -> None:
    elapsed_ms = (time.monotonic() - started) * 1000
    ctx = context.from_message(envelope.id, envelope.metadata) if envelope else context.new_context()
    level = logging.DEBUG if verdict.outcome == "skipped" else logging.INFO
    with context.use(ctx):
        logger.log(level, "consumer=%s name=%s message_id=%s outcome=%s duration_ms=%.1f", durable.name,
                    envelope.name if envelope else "-", envelope.id if envelope else message_id or "-",
                    verdict.outcome, elapsed_ms)


class DurableWorker:
    """The fetch loop of one durable and its dedicated handler thread."""

    def __init__(self, runner: "Runner", durable: messaging.Durable) -> None:
        self.runner = runner
        self.durable = durable
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=durable.name)
        self.subscription = None
        self.outage_deliveries: dict[int, int] = {}

    async def in_thread(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fn(*args, **kwargs))

    async def run(self) -> None:
        """Fetch and handle until stopped.

        Idle, it pulls one message at a time: a lingering pull for a batch of N is answered only when N
        messages arrived or the request expired, which would delay every hop of a message chain. Each
        message tells how many more the durable has pending; while some are, it pulls that many (at most
        ``CONSUMER_FETCH_BATCH``), which the server answers at once from what is stored.
        """
        pause = 0.5
        pending = 0
        while not self.runner.stopping.is_set():
            try:
                if not self.runner.client.is_connected:
                    await self.runner.sleep(0.25)
                    continue
                if self.subscription is None:
                    self.subscription = await self.runner.subscribe(self.durable)
                batch, timeout = ((min(pending, settings.CONSUMER_FETCH_BATCH), BACKLOG_FETCH_TIMEOUT_SECONDS)
                                  if pending else (1, FETCH_TIMEOUT_SECONDS))
                try:
                    messages = await self.subscription.fetch(batch, timeout=timeout)
                except asyncio.TimeoutError:
                    pause, pending = 0.5, 0
                    continue
                pause, pending = 0.5, messages[-1].metadata.num_pending if messages else 0
                await self.handle_batch(messages)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - broker errors never stop the runner
                logger.warning("%s: fetch failed (%s: %s); retrying in %.1fs", self.durable.name,
                               type(exc).__name__, exc, pause)
                await self.drop_subscription()
                await self.runner.sleep(pause)
                pause = min(pause * 2, MAX_RETRY_PAUSE_SECONDS)

    async def drop_subscription(self) -> None:
        subscription, self.subscription = self.subscription, None
        if subscription is not None:
            try:
                await subscription.unsubscribe()
            except Exception:  # noqa: BLE001
                pass

    async def handle_batch(self, messages: list) -> None:
        """Run ``process_batch`` in the durable's thread (keeping the messages in progress), then settle each."""
        batch = [self._delivered(msg) for msg in messages]
        work = asyncio.ensure_future(self.in_thread(process_batch, self.durable, batch,
                                                    stopping=self.runner.stopping.is_set))
        heartbeat = max(settings.CONSUMER_ACK_WAIT_SECONDS / 3, 0.5)
        while True:
            done, _ = await asyncio.wait({work}, timeout=heartbeat)
            if done:
                break
            for msg in messages:
                await self._quietly(msg.in_progress())
        verdicts = work.result()
        for msg, verdict in zip(messages, verdicts):
            await self._settle([msg], verdict.action, verdict.delay)
        if any(verdict.action == "outage" for verdict in verdicts):
            await self.wait_for_database()

    def _delivered(self, msg) -> Delivered:
        sequence = msg.metadata.sequence.stream
        delivery = max(1, msg.metadata.num_delivered - self.outage_deliveries.get(sequence, 0))
        message_id = (msg.headers or {}).get("Nats-Msg-Id") or f"{msg.metadata.stream}-seq-{sequence}"
        return Delivered(msg.data, delivery, msg.subject, message_id)

    async def _settle(self, messages: Iterable, action: str, delay: float) -> None:
        for msg in messages:
            sequence = msg.metadata.sequence.stream
            if action == "ack":
                await self._quietly(msg.ack())
            elif action == "term":
                await self._quietly(msg.term())
            else:
                await self._quietly(msg.nak(delay=delay) if delay else msg.nak())
                if action == "outage":
                    self._count_outage(sequence)
                continue
            self.outage_deliveries.pop(sequence, None)

    def _count_outage(self, sequence: int) -> None:
        if len(self.outage_deliveries) > 100_000:
            self.outage_deliveries.clear()
        self.outage_deliveries[sequence] = self.outage_deliveries.get(sequence, 0) + 1

    async def _quietly(self, awaitable) -> None:
        try:
            await awaitable
        except Exception as exc:  # noqa: BLE001 - a lost ack means a redelivery, which the inbox absorbs
            logger.warning("%s: could not reply to the broker: %s: %s", self.durable.name, type(exc).__name__, exc)

    async def wait_for_database(self) -> None:
        pause = 0.5
        while not self.runner.stopping.is_set():
            if await self.in_thread(database_answers):
                logger.info("%s: database answers again; resuming", self.durable.name)
                return
            await self.runner.sleep(pause)
            pause = min(pause * 2, MAX_DATABASE_POLL_SECONDS)

    async def close(self) -> None:
        """Close this durable's database connection (in its own thread) and stop the thread."""
        try:
            await self.in_thread(lambda: connection.close())
        except DATABASE_DOWN:
            pass
        self.executor.shutdown(wait=True)


class Runner:
    """Connects, creates/updates the stream and the durables, runs one ``DurableWorker`` per durable."""

    def __init__(self, durables: list[messaging.Durable]) -> None:
        self.durables = durables
        self.stopping = asyncio.Event()
        self.client: Any = None
        self.js: Any = None
        self._stream_ready = False
        self._stream_lock = asyncio.Lock()

    def stop(self) -> None:
        if not self.stopping.is_set():
            logger.info("stopping: finishing in-flight messages")
        self.stopping.set()

    async def sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def connect(self) -> None:
        pause = 0.5
        while not self.stopping.is_set():
            try:
                self.client = await mallbots_nats.connect(name="mallbots-consumers")
                self.js = self.client.jetstream()
                return
            except Exception as exc:  # noqa: BLE001 - keep trying until NATS is there
                logger.warning("cannot connect to NATS (%s: %s); retrying in %.1fs", type(exc).__name__, exc, pause)
                await self.sleep(pause)
                pause = min(pause * 2, MAX_RETRY_PAUSE_SECONDS)

    async def drain(self, workers: list[DurableWorker]) -> None:
        """Unsubscribe every durable, flush the last acks to the server, close the connection."""
        for worker in workers:
            await worker.drop_subscription()
        try:
            await self.client.flush(timeout=2)
        except Exception as exc:  # noqa: BLE001 - unflushed acks mean redeliveries, which the inbox absorbs
            logger.warning("could not flush the last acks: %s", exc)
        try:
            await asyncio.wait_for(self.client.close(), timeout=5)
        except Exception:  # noqa: BLE001
            pass

    async def subscribe(self, durable: messaging.Durable):
        """Create or update the durable, then bind a pull subscription to it."""
        stream = settings.NATS_STREAM
        async with self._stream_lock:
            if not self._stream_ready:
                await mallbots_nats.ensure_stream(self.js)
                self._stream_ready = True
        try:
            await self.js.add_consumer(stream, consumer_config(durable))
        except nats.js.errors.NotFoundError:
            self._stream_ready = False
            raise
        except nats.js.errors.APIError as exc:
            if exc.code == 404 or "stream not found" in str(exc).lower():
                self._stream_ready = False
                raise
            logger.error("%s: could not update the consumer (%s); using the existing one", durable.name, exc)
        logger.info("%s: consuming %s", durable.name, durable.subject)
        return await self.js.pull_subscribe_bind(durable=durable.name, stream=stream)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        await self.connect()
        if self.client is None:
            return 0
        workers = [DurableWorker(self, durable) for durable in self.durables]
        logger.info("consumers started: %s", ", ".join(d.name for d in self.durables) or "(none declared)")
        tasks = [asyncio.create_task(worker.run(), name=worker.durable.name) for worker in workers]
        await self.stopping.wait()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.drain(workers)
        for worker in workers:
            await worker.close()
        logger.info("consumers stopped")
        return 0


def selected_durables(modules: Iterable[str] | None) -> list[messaging.Durable]:
    """The declared durables of ``modules`` (all when empty); unknown module names raise ``ValueError``."""
    from django.apps import apps

    wanted = [m for m in (modules or []) if m]
    if wanted:
        declared = {d.module for d in messaging.durables()}
        unknown = sorted(set(wanted) - declared - {config.label for config in apps.get_app_configs()})
        if unknown:
            raise ValueError(f"unknown module(s): {', '.join(unknown)}; modules with durables: "
                             f"{', '.join(sorted(declared)) or 'none'}")
    return messaging.durables(wanted or None)


def run_durables(durables: list[messaging.Durable]) -> int:
    """Run ``durables`` until SIGTERM/SIGINT; returns the exit status."""
    return asyncio.run(Runner(durables).run())
