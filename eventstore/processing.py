"""What a consumer does with fetched messages (architecture.md §8), in the durable's worker thread.

``process_batch()`` handles a batch of first deliveries in one shared transaction (each message still inbox
first, in stream order; one commit and then every ack: group commit); if the batch holds anything else, or
any of its handlers fails, the shared transaction rolls back and each message goes through ``process()`` in
its own transaction, which decides what becomes of it. The verdicts tell the runner
(``eventstore.consumers``) to ack, nak or terminate each message:

1. unparseable envelope → dead letter + term;
2. a name the durable does not handle → ack (a batch of only such names: ``skipped``, in the runner's event
   loop, without the worker thread);
3. delivery count above ``CONSUMER_MAX_DELIVER`` → dead letter + term, the handler is not run;
4. ``messaging.handle`` (inbox first, one transaction) → ack after commit; ``MalformedMessage`` → dead
   letter + term;
5. ``RetryLater`` or any other error → nak with ``CONSUMER_BACKOFF_SECONDS[delivery]``; at the last
   allowed delivery → dead letter + term;
6. the database not answering → ``outage``: nak with delay, the rest of the batch too, and the runner
   stops fetching until the database answers again.

Nothing here touches NATS: the same functions serve the runner and tests that hand messages over directly.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from django.conf import settings
from django.db import DataError, InterfaceError, OperationalError, close_old_connections, connection, transaction

from eventstore import context, messaging, process_metrics
from eventstore.envelope import Envelope, MalformedMessage

logger = logging.getLogger("mallbots.consumers")
QUIET_OUTCOMES = ("handled", "skipped")
"""Outcomes logged at DEBUG: the normal path of every message is counted by ``mallbots_handler_seconds`` (ADR 29);
a log line per handled message costs its consumer more than many handlers do."""

DATABASE_DOWN = (OperationalError, InterfaceError)


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
    """One fetched message as the worker thread sees it; ``envelope`` is ``data`` parsed once by whoever
    fetched it (``None``: not parsed yet, or it does not parse)."""

    data: bytes
    delivery: int
    subject: str = ""
    message_id: str = ""
    envelope: Envelope | None = None

    @classmethod
    def parsed(cls, data: bytes, delivery: int, subject: str = "", message_id: str = "") -> "Delivered":
        try:
            envelope = Envelope.from_json(data)
        except MalformedMessage:
            envelope = None
        return cls(data, delivery, subject, message_id, envelope)

    def open(self) -> Envelope:
        """The envelope; raises ``MalformedMessage`` when ``data`` is not one."""
        return self.envelope if self.envelope is not None else Envelope.from_json(self.data)


STOPPING = Verdict("nak", "stopping")
SKIPPED = Verdict("ack", "skipped")


def backoff_seconds(delivery: int) -> float:
    delays = settings.CONSUMER_BACKOFF_SECONDS or [1.0]
    return float(delays[min(max(delivery, 1), len(delays)) - 1])


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
            message_id: str = "", parsed: Envelope | None = None) -> Verdict:
    """Handle one delivered message in the calling (worker) thread; return what to tell the broker.

    ``delivery`` is the delivery count that counts towards ``CONSUMER_MAX_DELIVER``. ``message_id`` names
    an unparseable message in its dead letter (the ``Nats-Msg-Id`` header or the stream sequence).
    ``parsed`` is ``data`` already parsed (``Delivered.envelope``).
    """
    started = time.monotonic()
    envelope: Envelope | None = None
    try:
        close_old_connections()
        envelope = parsed if parsed is not None else Envelope.from_json(data)
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
                                    message_id=item.message_id, parsed=item.envelope))
    return verdicts


def skipped(durable: messaging.Durable, batch: list[Delivered]) -> list[Verdict] | None:
    """Rule 2 without the database or the worker thread: if every message of ``batch`` parses and has a name
    ``durable`` does not handle, their ack verdicts, logged and counted as ``process_batch`` would; else
    ``None`` and nothing logged (the batch goes to ``process_batch``)."""
    started = time.monotonic()
    envelopes = []
    for item in batch:
        try:
            envelope = item.open()
        except MalformedMessage:
            return None
        if envelope.name in durable.handlers:
            return None
        envelopes.append(envelope)
    for envelope, item in zip(envelopes, batch):
        _log(durable, envelope, item.message_id, SKIPPED, started)
    return [SKIPPED] * len(batch)


def _together(durable: messaging.Durable, batch: list[Delivered]) -> list[Verdict] | None:
    """One transaction for the whole batch, inbox row first for each message; ``None`` means "one by one"."""
    if any(item.delivery != 1 for item in batch):
        return None
    started = time.monotonic()
    try:
        envelopes = [item.open() for item in batch]
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
    verdicts = [Verdict("ack", outcome.value) for outcome in outcomes]
    for envelope, item, verdict in zip(envelopes, batch, verdicts):
        _log(durable, envelope, item.message_id, verdict, started)
    return verdicts


def _decide(durable: messaging.Durable, envelope: Envelope, delivery: int) -> Verdict:
    if envelope.name not in durable.handlers:
        return SKIPPED
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
    elapsed = time.monotonic() - started
    elapsed_ms = elapsed * 1000
    process_metrics.handled(durable.name, envelope.name if envelope else "-", verdict.outcome, elapsed)
    level = logging.DEBUG if verdict.outcome in QUIET_OUTCOMES else logging.INFO
    if not logger.isEnabledFor(level):
        return
    ctx = context.from_message(envelope.id, envelope.metadata) if envelope else context.new_context()
    with context.use(ctx):
        logger.log(level, "consumer=%s name=%s message_id=%s outcome=%s duration_ms=%.1f", durable.name,
                    envelope.name if envelope else "-", envelope.id if envelope else message_id or "-",
                    verdict.outcome, elapsed_ms)
