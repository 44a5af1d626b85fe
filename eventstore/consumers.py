"""The consumer runner (architecture.md §8): JetStream durable pull consumers feeding ``processing``.

One asyncio task per durable fetches up to ``CONSUMER_FETCH_BATCH`` messages at a time and hands the batch
to a dedicated worker thread of that durable (sync Django code, ``processing.process_batch``); it then acks,
naks or terminates each message as its verdict says, keeps the messages in progress while their handlers
run, and after an ``outage`` verdict stops fetching until the database answers. Deliveries spent on an
outage are not counted towards the dead-letter limit (tracked in memory per stream sequence). Broker errors
never stop the runner: it reconnects and re-binds with exponential backoff.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable

import nats.js.errors
from django.conf import settings
from django.db import connection
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from eventstore import loop, messaging
from eventstore import nats as mallbots_nats
from eventstore.backoff import Backoff
from eventstore.processing import DATABASE_DOWN, Delivered, database_answers, process_batch, skipped

logger = logging.getLogger("mallbots.consumers")

FETCH_TIMEOUT_SECONDS = 5.0
BACKLOG_FETCH_TIMEOUT_SECONDS = 0.01
FIRST_RETRY_PAUSE_SECONDS = 0.5
MAX_RETRY_PAUSE_SECONDS = 10.0
MAX_DATABASE_POLL_SECONDS = 5.0


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



class DurableWorker:
    """The fetch loop of one durable and its dedicated handler thread."""

    def __init__(self, runner: "Runner", durable: messaging.Durable) -> None:
        self.runner = runner
        self.durable = durable
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=durable.name)
        self.subscription = None
        self.outage_deliveries: dict[int, int] = {}
        self.task: asyncio.Task | None = None
        self.waiting = False

    async def in_thread(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fn(*args, **kwargs))

    async def run(self) -> None:
        """Fetch and handle until stopped.

        Idle, it pulls one message at a time: a lingering pull for a batch of N is answered only when N
        messages arrived or the request expired, which would delay every hop of a message chain. Each
        message tells how many more the durable has pending; while some are, it pulls that many (at most
        ``CONSUMER_FETCH_BATCH``), which the server answers at once from what is stored. An idle pull lasts
        ``FETCH_TIMEOUT_SECONDS``; stopping cancels it (``interrupt``) rather than waiting for it to expire.
        """
        backoff = Backoff(MAX_RETRY_PAUSE_SECONDS, first=FIRST_RETRY_PAUSE_SECONDS)
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
                self.waiting = True
                try:
                    messages = await self.subscription.fetch(batch, timeout=timeout)
                except asyncio.TimeoutError:
                    backoff.reset()
                    pending = 0
                    continue
                finally:
                    self.waiting = False
                backoff.reset()
                pending = messages[-1].metadata.num_pending if messages else 0
                await self.handle_batch(messages)
            except asyncio.CancelledError:
                if self.runner.stopping.is_set():
                    return
                raise
            except Exception as exc:  # noqa: BLE001 - broker errors never stop the runner
                pause = backoff.next()
                logger.warning("%s: fetch failed (%s: %s); retrying in %.1fs", self.durable.name,
                               type(exc).__name__, exc, pause)
                await self.drop_subscription()
                await self.runner.sleep(pause)

    def interrupt(self) -> None:
        """Cancel the pull this worker waits on, if it waits on one (stopping). A message the server delivered
        to a cancelled pull is redelivered after the ack wait, as after a crash."""
        if self.waiting and self.task is not None:
            self.task.cancel()

    async def drop_subscription(self) -> None:
        subscription, self.subscription = self.subscription, None
        if subscription is not None:
            try:
                await subscription.unsubscribe()
            except Exception:  # noqa: BLE001
                pass

    async def handle_batch(self, messages: list) -> None:
        """Run ``process_batch`` in the durable's thread (keeping the messages in progress), then settle each;
        a batch of names the durable does not handle is acked at once (``skipped``)."""
        batch = [self._delivered(msg) for msg in messages]
        verdicts = None if self.runner.stopping.is_set() else skipped(self.durable, batch)
        if verdicts is not None:
            for msg in messages:
                await self._settle([msg], "ack", 0.0)
            return
        work = asyncio.get_running_loop().run_in_executor(
            self.executor, functools.partial(process_batch, self.durable, batch, stopping=self.runner.stopping.is_set))
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
        return Delivered.parsed(msg.data, delivery, msg.subject, message_id)

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
        backoff = Backoff(MAX_DATABASE_POLL_SECONDS, first=FIRST_RETRY_PAUSE_SECONDS)
        while not self.runner.stopping.is_set():
            if await self.in_thread(database_answers):
                logger.info("%s: database answers again; resuming", self.durable.name)
                return
            await self.runner.sleep(backoff.next())

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
        self.workers: list[DurableWorker] = []

    def stop(self) -> None:
        if not self.stopping.is_set():
            logger.info("stopping: finishing in-flight messages")
        self.stopping.set()
        for worker in self.workers:
            worker.interrupt()

    async def sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def connect(self) -> None:
        backoff = Backoff(MAX_RETRY_PAUSE_SECONDS, first=FIRST_RETRY_PAUSE_SECONDS)
        while not self.stopping.is_set():
            try:
                self.client = await mallbots_nats.connect(name="mallbots-consumers")
                self.js = self.client.jetstream()
                return
            except Exception as exc:  # noqa: BLE001 - keep trying until NATS is there
                pause = backoff.next()
                logger.warning("cannot connect to NATS (%s: %s); retrying in %.1fs", type(exc).__name__, exc, pause)
                await self.sleep(pause)

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
        workers = self.workers = [DurableWorker(self, durable) for durable in self.durables]
        logger.info("consumers started: %s", ", ".join(d.name for d in self.durables) or "(none declared)")
        for worker in workers:
            worker.task = asyncio.create_task(worker.run(), name=worker.durable.name)
        await self.stopping.wait()
        await asyncio.gather(*(worker.task for worker in workers), return_exceptions=True)
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
    return loop.run(Runner(durables).run())
