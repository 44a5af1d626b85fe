"""The outbox relay (architecture.md §7): committed outbox rows → JetStream, in ``position`` order.

One relay is active at a time: it holds the session advisory lock ``mallbots-relay`` on its own
PostgreSQL connection; every other instance is a standby that retries the lock every
``RELAY_STANDBY_POLL_SECONDS``. When the active relay dies its session ends, PostgreSQL releases the
lock and a standby takes over. The connection's ``application_name`` is ``mallbots-relay:<os pid>``,
so ``pg_locks`` joined with ``pg_stat_activity`` tells which process is active.

Active loop: ``LISTEN mallbots_outbox`` (the outbox insert trigger notifies at commit); wake on a
notification or every ``RELAY_POLL_INTERVAL_SECONDS``; read up to ``RELAY_BATCH_SIZE`` unpublished
rows by ``position``; publish them in that order as one window of JetStream publishes (header
``Nats-Msg-Id`` = message id, ``Content-Type: application/json``, body = the envelope of events.md §2
with payload and metadata copied verbatim from the row, and ``traceparent`` from the metadata when it has
one), each with its own reply subject on the relay's
one ack inbox (``<inbox>.<batch>.<index>``: no future per row, acks read without building objects);
wait up to ``RELAY_PUBLISH_TIMEOUT_SECONDS`` for the acks; mark ``published_at`` on the acked prefix only. A row
is never marked before its ack, so a crash between ack and marking republishes it and JetStream's
duplicate window drops the copy. While a batch waits for its acks the database connection marks the
previous batch and reads the next one (one statement, sent before the batch's publishes so the server
runs it while the relay publishes), so at most one batch of publishes is in flight.
A batch acked whole when nothing is left to read waits up to ``MARK_DELAY_SECONDS`` for a notification,
so its mark goes with the read that brings; otherwise it is marked alone; the last batch of a backlog is
marked at once. Logs: a batch acked whole is a DEBUG line and counts towards an INFO summary (at most one
per ``SUMMARY_SECONDS``, and when the relay idles or stops); a batch with duplicates and every failure get
an INFO, WARNING or ERROR line at once.

Order under partial failure: a window never holds two rows of one aggregate (same ``aggregate_type`` and
``aggregate_id`` in the metadata); it ends before the first row whose aggregate already has a row in it,
and that row opens the next window. If a row is lost or refused while later rows of the window are
stored, those belong to other aggregates, and the retry starts at the failed row: each aggregate's
events reach the stream in version order, also across failures (ADR 13). Rows without aggregate
metadata (commands, replies) are not limited: nothing orders them but causality, which the transactions
that write them already ensure.

The relay session runs with ``synchronous_commit = off``: a mark lost in a PostgreSQL crash only
republishes rows, which the duplicate window and the consumers' inboxes absorb. Bitmap scans and
sorts are disabled for the session so the unpublished rows are always read through the partial index
in ``position`` order, whatever the planner's statistics say about the size of a backlog. Its statements
are planned on every call (``plan_cache_mode = force_custom_plan``) and send positions as the text of a
``bigint[]`` (``bigint_array``): a generic plan takes the arrays as parameters, so it cast and scanned the
whole exclusion list again for every row it read, more than half of the server's time per relayed row; a
custom plan casts once and hashes the list (ADR 36).

Failures: on a publish error or a missing ack the batch stops at the first unacked row, which gets
``attempts + 1`` and ``last_error``. A failure that retrying the same bytes cannot cure (``is_permanent``:
the row is larger than the server's ``max_payload``, or JetStream refuses its size) dead-letters the row
(``dead_lettered_at``; the relay never reads it again until an operator retries it in the admin) and the
relay goes on at once with the rows behind it, later rows of the same aggregate included (ADR 20). Any
other failure (no responders, a 503, no ack in time, a lost connection) is transient: the relay backs
off exponentially (capped at ``RELAY_MAX_BACKOFF_SECONDS``) and retries from that row. The NATS client reconnects forever; a lost
database connection, or any other error of a session, is logged and the session reopened with the same
backoff, which only resets once a session has read the outbox. The relay never exits because a server
misbehaves. SIGTERM/SIGINT finish the current batch and return normally (exit status 0).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection as django_connection
from nats.errors import BadHeaderError, BadSubjectError, MaxPayloadError
from nats.js.errors import APIError, NoStreamResponseError, ServerError, ServiceUnavailableError
from psycopg.types.numeric import Int8Dumper

from eventstore import nats as mallbots_nats
from eventstore import process_metrics, tracing
from eventstore.backoff import Backoff

logger = logging.getLogger("mallbots.relay")

LOCK_NAME = "mallbots-relay"
CHANNEL = "mallbots_outbox"

_TRY_LOCK = f"SELECT pg_try_advisory_lock(hashtext('{LOCK_NAME}'))"
_FETCH = (
    "SELECT position, message_id::text, name, subject, payload::text, metadata::text,"
    " to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    " (metadata->>'aggregate_type') || ':' || (metadata->>'aggregate_id'), metadata->>'traceparent'"
    " FROM eventstore_outbox WHERE published_at IS NULL AND dead_lettered_at IS NULL"
    " AND position <> ALL(%s::bigint[])"
    " ORDER BY position LIMIT %s"
)
_MARK = "UPDATE eventstore_outbox SET published_at = now() WHERE position = ANY(%s::bigint[])"
_MARK_AND_FETCH = f"WITH marked AS ({_MARK}) {_FETCH}"
_FAIL = "UPDATE eventstore_outbox SET attempts = attempts + 1, last_error = %s WHERE position = %s"
_DEAD = ("UPDATE eventstore_outbox SET attempts = attempts + 1, last_error = %s, dead_lettered_at = now()"
         " WHERE position = %s")
_HEADER_FRAME = len(b"NATS/1.0\r\n\r\n")
# JetStream's answers that no retry of the same message can change: the message, or its headers, exceed
# the stream's (or the server's) maximum size.
PERMANENT_JETSTREAM_ERRORS = frozenset({10054, 10097})
_SESSION = ("SET synchronous_commit = off; SET enable_bitmapscan = off; SET enable_sort = off;"
            " SET plan_cache_mode = force_custom_plan")
_ENVELOPE = '{"id":"%s","name":%s,"subject":%s,"payload":%s,"metadata":%s,"sent_at":"%s"}'
_WAIT_SLICE_SECONDS = 0.5
MARK_DELAY_SECONDS = 0.1
SUMMARY_SECONDS = 1.0
FIRST_BACKOFF_SECONDS = 0.25


@dataclass(frozen=True)
class RelayConfig:
    batch_size: int
    poll_interval: float
    publish_timeout: float
    max_backoff: float
    standby_poll: float

    @classmethod
    def from_settings(cls) -> "RelayConfig":
        return cls(
            batch_size=max(1, settings.RELAY_BATCH_SIZE),
            poll_interval=settings.RELAY_POLL_INTERVAL_SECONDS,
            publish_timeout=settings.RELAY_PUBLISH_TIMEOUT_SECONDS,
            max_backoff=settings.RELAY_MAX_BACKOFF_SECONDS,
            standby_poll=settings.RELAY_STANDBY_POLL_SECONDS,
        )


def database_params() -> dict[str, Any]:
    """libpq keyword parameters of Django's default database, for a dedicated psycopg connection."""
    params = django_connection.get_connection_params()
    wanted = {key: value for key, value in params.items() if isinstance(value, (str, int)) and key != "prepare_threshold"}
    wanted["application_name"] = f"{LOCK_NAME}:{os.getpid()}"
    return wanted


@dataclass(slots=True)
class OutboxRow:
    """One unpublished row as it goes on the wire: ``headers`` and ``wire_size`` are worked out once, on creation."""

    position: int
    message_id: str
    subject: str
    body: bytes
    aggregate: str | None = None
    traceparent: str = ""
    headers: dict[str, str] = field(init=False)
    """``Nats-Msg-Id``, ``Content-Type`` and, when the metadata has one, ``traceparent`` (events.md §1)."""
    wire_size: int = field(init=False)
    """Headers and body as the server counts them against its ``max_payload``."""

    def __post_init__(self) -> None:
        self.headers = {"Nats-Msg-Id": self.message_id, "Content-Type": "application/json"}
        if self.traceparent:
            self.headers["traceparent"] = self.traceparent
        header_lines = sum(map(len, self.headers)) + sum(map(len, self.headers.values())) + 4 * len(self.headers)
        self.wire_size = len(self.body) + _HEADER_FRAME + header_lines

    @classmethod
    def from_db(cls, record: tuple) -> "OutboxRow":
        """The envelope of events.md §2 (same keys as ``Envelope.to_json``), payload and metadata verbatim."""
        position, message_id, name, subject, payload, metadata, sent_at, aggregate, traceparent = record
        body = _ENVELOPE % (message_id, _json_string(name), _json_string(subject), payload, metadata, sent_at)
        return cls(position, message_id, subject, body.encode(), aggregate, traceparent or "")


@functools.lru_cache(maxsize=1024)
def _json_string(text: str) -> str:
    """``text`` as a JSON string: names and subjects repeat from row to row, so each is encoded once."""
    return json.dumps(text)


class PayloadTooLarge(MaxPayloadError):
    """A row larger than the server's ``max_payload``: refused before sending (the server would close the
    connection for it, and nats-py counts the body only)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__()
        self.size, self.limit = size, limit

    def __str__(self) -> str:
        return f"the message is {self.size} bytes, the server's max_payload is {self.limit}"


def is_permanent(error: BaseException | None) -> bool:
    """Whether publishing the same message again can never succeed: too large for the server, refused by
    JetStream for its size, or a subject or header the client refuses. No responders, a 503 or 500 from
    JetStream, a timeout or a lost connection are transient."""
    if isinstance(error, (MaxPayloadError, BadSubjectError, BadHeaderError)):
        return True
    if isinstance(error, APIError) and not isinstance(error, (ServiceUnavailableError, ServerError)):
        return (error.err_code in PERMANENT_JETSTREAM_ERRORS
                or "exceeds maximum allowed" in (error.description or ""))
    return False


def bigint_array(positions: list[int]) -> str:
    """``positions`` as the text of a PostgreSQL array, for a parameter cast with ``::bigint[]``: joined in one call,
    where psycopg's list dumper adapts element by element (about 0.8 against 0.1 µs per position, and a batch
    sends up to three positions per row)."""
    return "{" + ",".join(map(str, positions)) + "}"


def window(rows: list[OutboxRow]) -> list[OutboxRow]:
    """The longest prefix of ``rows`` with at most one row per aggregate (rows without one always fit)."""
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if row.aggregate is not None:
            if row.aggregate in seen:
                return rows[:index]
            seen.add(row.aggregate)
    return rows


@dataclass
class Batch:
    """Rows published together: one ack slot per row, the acked prefix and the first failure.

    Each row is published with the reply subject ``<ack inbox>.<batch number>.<index>``; the relay's one
    wildcard subscription fills ``outcomes`` (``True`` = stored, else the error) and sets ``answered``
    once sending has finished and every row sent has its answer (answers can arrive while later rows are
    still being sent, when the client flushes a large window in parts).
    """

    rows: list[OutboxRow]
    started: float
    number: int = 0
    sent: int = 0
    outcomes: list[Any] = field(default_factory=list)
    answers: int = 0
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    acked: int = 0
    duplicates: int = 0
    error: BaseException | None = None
    finished_sending: bool = False
    dead_lettered: bool = False

    @property
    def positions(self) -> list[int]:
        return [row.position for row in self.rows]

    @property
    def failed(self) -> OutboxRow | None:
        return self.rows[self.acked] if self.acked < len(self.rows) else None

    def answer(self, index: int, outcome: Any, duplicate: bool = False) -> None:
        if 0 <= index < len(self.outcomes) and self.outcomes[index] is None:
            self.outcomes[index] = outcome
            self.duplicates += duplicate
            self.answers += 1
            self._check_answered()

    def sending_finished(self) -> None:
        self.finished_sending = True
        self._check_answered()

    def _check_answered(self) -> None:
        if self.finished_sending and self.answers >= self.sent:
            self.answered.set()


def ack_outcome(msg) -> tuple[Any, bool]:
    """(``True`` or the error, duplicate?) for one JetStream publish answer."""
    if msg.headers and msg.headers.get("Status") == "503":
        return NoStreamResponseError(), False
    data = msg.data
    if b'"error"' in data:
        try:
            APIError.from_error(json.loads(data)["error"])
        except APIError as exc:
            return exc, False
        except (ValueError, KeyError, TypeError):
            pass
        return APIError(description=data.decode(errors="replace")[:200]), False
    return True, b'"duplicate"' in data and b"true" in data.partition(b'"duplicate"')[2][:8]


class Relay:
    """One relay process; ``await Relay().run()`` returns after SIGTERM/SIGINT (or ``stop()``)."""

    def __init__(self, config: RelayConfig | None = None, db_params: dict[str, Any] | None = None) -> None:
        self.config = config or RelayConfig.from_settings()
        self.db_params = db_params or database_params()
        self.stopping: asyncio.Event | None = None
        self.nc = None
        self.js = None
        self.ack_inbox = ""
        self.current: Batch | None = None
        self.batches = 0
        self.notified = 0
        self.tally = [0, 0]
        self.tally_since = time.monotonic()
        self.session_backoff = Backoff(self.config.max_backoff, first=FIRST_BACKOFF_SECONDS)

    def stop(self) -> None:
        if self.stopping is not None:
            self.stopping.set()

    async def run(self) -> None:
        self.stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        try:
            if await self._connect_nats():
                await self._serve()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            if self.nc is not None:
                await self.nc.close()
        logger.info("relay stopped")

    async def _connect_nats(self) -> bool:
        """Connect (retrying forever) and create or update the stream; False if stopped meanwhile."""
        backoff = Backoff(self.config.max_backoff, first=FIRST_BACKOFF_SECONDS)

        async def disconnected() -> None:
            if not self.stopping.is_set():
                logger.warning("nats disconnected")

        async def reconnected() -> None:
            logger.info("nats reconnected")

        connecting = asyncio.ensure_future(mallbots_nats.connect(
            name=f"{LOCK_NAME}:{os.getpid()}", disconnected_cb=disconnected, reconnected_cb=reconnected))
        if not await self._until_done(connecting):
            return False
        self.nc = connecting.result()
        self.js = self.nc.jetstream(timeout=self.config.publish_timeout)
        self.ack_inbox = self.nc.new_inbox()
        await self.nc.subscribe(f"{self.ack_inbox}.>", cb=self._on_ack)
        while not self.stopping.is_set():
            try:
                await mallbots_nats.ensure_stream(self.js)
                return True
            except Exception as exc:
                delay = backoff.next()
                logger.warning("cannot ensure stream %s: %s; retrying in %.1fs", settings.NATS_STREAM, exc, delay)
                await self._sleep(delay)
        return False

    async def _until_done(self, task: asyncio.Future) -> bool:
        stopped = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if task.done():
            return True
        task.cancel()
        return False

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def _serve(self) -> None:
        """Open a database session, take the lock, relay; on any error log, back off and start again.

        The backoff grows across sessions that fail and resets once a session has read the outbox.
        """
        self.session_backoff.reset()
        while not self.stopping.is_set():
            try:
                conn = await psycopg.AsyncConnection.connect(**self.db_params, autocommit=True)
            except psycopg.Error as exc:
                delay = self.session_backoff.next()
                logger.warning("database unavailable: %s; retrying in %.1fs", exc, delay)
                await self._sleep(delay)
                continue
            try:
                if await self._acquire_lock(conn):
                    await self._active(conn)
            except psycopg.Error as exc:
                delay = self.session_backoff.next()
                logger.warning("database connection lost: %s; reconnecting in %.1fs", exc, delay)
                await self._sleep(delay)
            except Exception:  # noqa: BLE001 - the relay outlives whatever a server or a bug throws at it
                delay = self.session_backoff.next()
                logger.exception("relay session failed; starting a new one in %.1fs", delay)
                await self._sleep(delay)
            finally:
                await conn.close()

    async def _acquire_lock(self, conn: psycopg.AsyncConnection) -> bool:
        announced = False
        while not self.stopping.is_set():
            cursor = await conn.execute(_TRY_LOCK)
            if (await cursor.fetchone())[0]:
                logger.info("active: holding the %s lock", LOCK_NAME)
                return True
            if not announced:
                logger.info("standby: another relay holds the %s lock", LOCK_NAME)
                announced = True
            await self._sleep(self.config.standby_poll)
        return False

    async def _active(self, conn: psycopg.AsyncConnection) -> None:
        """Publish batch N while marking batch N-1 and reading batch N+1 (one batch of publishes in flight).

        The statement that marks and reads is sent first (the task runs up to its first wait at
        ``asyncio.sleep(0)``), so the server works on it while the relay builds and sends the publishes; the
        connection is not touched again until the statement's task is awaited.

        A read is skipped when it cannot find anything: ``complete`` says the read that gave the batch held
        every unpublished row (fewer than a batch, none cut by the window), and ``caught_up`` that such a
        batch was acked whole. A commit after that read notifies once it is visible, so while no
        notification has arrived since, there is nothing to read; one that arrives later wakes the wait.
        A mark that is followed by a read goes with it as one statement; a caught-up batch waits up to
        ``MARK_DELAY_SECONDS`` for a notification to ride with the read it brings, else it is marked alone.
        The last batch of a backlog (since a read that did not hold every unpublished row) is marked at once:
        one statement more per backlog, and its rows' ``published_at`` is not held back.
        """
        await conn.execute(_SESSION)
        conn.adapters.register_dumper(int, Int8Dumper)
        await conn.execute(f"LISTEN {CHANNEL}")
        conn.add_notify_handler(self._count_notification)
        logger.info("listening on %s", CHANNEL)
        backoff = Backoff(self.config.max_backoff, first=FIRST_BACKOFF_SECONDS)
        to_mark: Batch | None = None
        upcoming: list[OutboxRow] = []
        complete = caught_up = backlog = False
        try:
            while not self.stopping.is_set():
                if not upcoming:
                    notified = self._drain_notifications(conn)
                    if caught_up and notified == 0:
                        caught_up = False
                        if (to_mark is None or backlog
                                or not await self._wait_for_notification(conn, MARK_DELAY_SECONDS)):
                            to_mark = await self._mark(conn, to_mark)
                            await self._idle(conn)
                        backlog = False
                        continue
                    upcoming, complete = await self._fetch(conn, exclude=[], mark=to_mark)
                    backlog = backlog or not complete
                    to_mark = None
                    self.session_backoff.reset()
                    caught_up = False
                    if not upcoming:
                        await self._idle(conn)
                        continue
                statement = None
                if not complete or self._drain_notifications(conn) > 0:
                    statement = asyncio.ensure_future(self._fetch(
                        conn, exclude=[row.position for row in upcoming], mark=to_mark))
                elif to_mark is not None:
                    statement = asyncio.ensure_future(self._mark(conn, to_mark))
                to_mark = None
                if statement is not None:
                    await asyncio.sleep(0)
                batch = await self._publish(upcoming)
                read = await statement if statement is not None else None
                upcoming, complete = ([], False) if read is None or batch.error else read
                backlog = backlog or (read is not None and not complete)
                await self._settle(batch)
                if batch.failed is None:
                    to_mark = batch
                    caught_up = not upcoming
                    backoff.reset()
                else:
                    await self._mark(conn, batch)
                    upcoming = []
                    if not batch.dead_lettered:
                        await self._sleep(backoff.next())
            await self._mark(conn, to_mark)
        finally:
            conn.remove_notify_handler(self._count_notification)
            self._summarize()

    async def _fetch(self, conn: psycopg.AsyncConnection, exclude: list[int],
                     mark: "Batch | None" = None) -> tuple[list[OutboxRow], bool]:
        """The next window: unpublished rows by position, cut before a second row of one aggregate; and whether
        it holds every unpublished row not in ``exclude`` (fewer than a batch were read and none was cut).

        With ``mark`` (a batch acked whole) the same statement first sets its rows' ``published_at``; the
        read sees the rows as they were before, so they are excluded too.
        """
        if mark is None:
            cursor = await conn.execute(_FETCH, [bigint_array(exclude), self.config.batch_size])
        else:
            marked = mark.positions
            cursor = await conn.execute(_MARK_AND_FETCH, [bigint_array(marked), bigint_array(exclude + marked),
                                                          self.config.batch_size])
        rows = [OutboxRow.from_db(record) for record in await cursor.fetchall()]
        if mark is not None:
            self._record(mark)
        kept = window(rows)
        return kept, len(rows) < self.config.batch_size and len(kept) == len(rows)

    def _count_notification(self, _note: psycopg.Notify) -> None:
        self.notified += 1

    def _read_notifications(self, conn: psycopg.AsyncConnection) -> None:
        """Take in what the server has sent, never waiting; its notifications count in ``notified``."""
        pgconn = conn.pgconn
        pgconn.consume_input()
        while (note := pgconn.notifies()) is not None:
            pgconn.notify_handler(note)

    def _drain_notifications(self, conn: psycopg.AsyncConnection) -> int:
        """How many notifications arrived since the last drain: wake-ups that the next full read covers anyway."""
        self._read_notifications(conn)
        drained, self.notified = self.notified, 0
        return drained

    async def _wait_for_notification(self, conn: psycopg.AsyncConnection, seconds: float) -> bool:
        """Wait up to ``seconds`` for a notification (True at once if one came since the last drain)."""
        loop = asyncio.get_running_loop()
        fd = conn.pgconn.socket
        deadline = time.monotonic() + seconds
        while not self.notified and not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            readable = loop.create_future()
            loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
            try:
                async with asyncio.timeout(min(remaining, _WAIT_SLICE_SECONDS)):
                    await readable
            except TimeoutError:
                pass
            finally:
                loop.remove_reader(fd)
            self._read_notifications(conn)
        return bool(self.notified)

    async def _idle(self, conn: psycopg.AsyncConnection) -> None:
        """Nothing to read: wait for a notification or the poll interval; log the summary when none came."""
        if not await self._wait_for_notification(conn, self.config.poll_interval):
            self._summarize()

    async def _publish(self, rows: list[OutboxRow]) -> "Batch":
        """Send ``rows`` in order, each with its own ack reply subject; stop at the first send error."""
        self.batches += 1
        batch = Batch(rows=rows, started=time.perf_counter(), number=self.batches, outcomes=[None] * len(rows))
        self.current = batch
        prefix = f"{self.ack_inbox}.{batch.number}."
        try:
            for index, row in enumerate(rows):
                if row.wire_size > self.nc.max_payload:
                    raise PayloadTooLarge(row.wire_size, self.nc.max_payload)
                await self.nc.publish(row.subject, row.body, reply=prefix + str(index), headers=row.headers)
                batch.sent += 1
        except Exception as exc:
            batch.error = exc
        batch.sending_finished()
        return batch

    async def _on_ack(self, msg) -> None:
        batch = self.current
        number, _, index = msg.subject[len(self.ack_inbox) + 1:].partition(".")
        if batch is None or number != str(batch.number) or not index.isdigit():
            return
        outcome, duplicate = ack_outcome(msg)
        batch.answer(int(index), outcome, duplicate)

    async def _settle(self, batch: "Batch") -> None:
        """Wait up to the publish timeout for the answers; record the acked prefix and the first failure."""
        if batch.sent and not batch.answered.is_set():
            try:
                async with asyncio.timeout(self.config.publish_timeout):
                    await batch.answered.wait()
            except TimeoutError:
                pass
        while batch.acked < batch.sent and batch.outcomes[batch.acked] is True:
            batch.acked += 1
        if batch.acked < batch.sent:
            outcome = batch.outcomes[batch.acked]
            batch.error = (TimeoutError(f"no JetStream ack within {self.config.publish_timeout:g}s")
                           if outcome is None else outcome)

    async def _mark(self, conn: psycopg.AsyncConnection, batch: "Batch | None") -> None:
        """Set ``published_at`` on the acked prefix, record the failed row's attempt (and dead-letter it when
        the failure is permanent), log the batch. Returns ``None`` (what is left to mark)."""
        if batch is None:
            return None
        if batch.acked:
            await conn.execute(_MARK, [bigint_array([row.position for row in batch.rows[:batch.acked]])])
        self._record(batch)
        failed = batch.failed
        if failed is None:
            return None
        elapsed_ms = (time.perf_counter() - batch.started) * 1000
        text = f"{type(batch.error).__name__}: {batch.error}".rstrip(": ")
        if is_permanent(batch.error):
            await conn.execute(_DEAD, [text[:2000], failed.position])
            batch.dead_lettered = True
            logger.error("published %d of %d messages; position %s (%s) dead-lettered, it can never be published:"
                         " %s", batch.acked, len(batch.rows), failed.position, failed.message_id, text)
            return None
        await conn.execute(_FAIL, [text[:2000], failed.position])
        logger.warning("published %d of %d messages in %.1f ms; position %s failed: %s",
                       batch.acked, len(batch.rows), elapsed_ms, failed.position, text)
        if isinstance(batch.error, NoStreamResponseError):
            await self._reensure_stream()
        return None

    def _record(self, batch: "Batch") -> None:
        """Metrics and spans of a marked batch. A batch acked whole with duplicates (a republish) gets its own
        INFO line; others count towards the summary (``_summarize``), at most one INFO line per
        ``SUMMARY_SECONDS``, and a DEBUG line each."""
        elapsed = time.perf_counter() - batch.started
        process_metrics.relay_batch(batch.acked, elapsed, batch.failed is not None)
        tracing.published(batch.rows[:batch.acked], elapsed, settings.NATS_STREAM)
        if batch.failed is not None:
            return
        if batch.duplicates:
            logger.info("published %d messages (%d duplicates) in %.1f ms", batch.acked, batch.duplicates,
                        elapsed * 1000)
            return
        logger.debug("published %d messages (0 duplicates) in %.1f ms", batch.acked, elapsed * 1000)
        self.tally[0] += 1
        self.tally[1] += batch.acked
        if time.monotonic() - self.tally_since >= SUMMARY_SECONDS:
            self._summarize()

    def _summarize(self) -> None:
        """Log the batches acked whole without duplicates since the last summary, if any."""
        batches, messages = self.tally
        if batches:
            logger.info("published %d messages (0 duplicates) in %d batches over %.1f s", messages, batches,
                        time.monotonic() - self.tally_since)
        self.tally = [0, 0]
        self.tally_since = time.monotonic()

    async def _reensure_stream(self) -> None:
        try:
            await mallbots_nats.ensure_stream(self.js)
        except Exception as exc:
            logger.warning("cannot ensure stream %s: %s", settings.NATS_STREAM, exc)
