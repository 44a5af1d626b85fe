"""Durable consumers: declarations, and the per-message core shared by the NATS runner and ``deliver_all``.

Apps declare their durables in ``AppConfig.ready()``::

    messaging.declare(name="baskets-stores", module="baskets", subject="mallbots.stores.events.Store",
                      handlers={"storesapi.StoreCreated": handlers.on_store_created, ...})

A handler is ``fn(received: Received) -> None``; it runs inside the message's transaction, after the inbox
row was inserted. It raises ``RetryLater`` when the target is not ready yet; any exception rolls the
transaction back and the message is redelivered with backoff, then dead-lettered.
"""

from __future__ import annotations

import enum
import traceback
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from django.db import DatabaseError, transaction

from eventstore import codec, context, store, tracing, transactions
from eventstore.envelope import Envelope, MalformedMessage


@dataclass(frozen=True)
class Received:
    """A consumed message as handlers see it."""

    envelope: Envelope
    message: Any
    durable: str
    delivery: int = 1

    @property
    def id(self) -> str:
        return self.envelope.id

    @property
    def name(self) -> str:
        return self.envelope.name

    @property
    def metadata(self) -> dict[str, Any]:
        return self.envelope.metadata

    @property
    def aggregate_version(self) -> int:
        return int(self.envelope.metadata.get("aggregate_version") or 0)


Handler = Callable[[Received], None]


@dataclass(frozen=True)
class Durable:
    name: str
    module: str
    subject: str
    handlers: Mapping[str, Handler]


_durables: dict[str, Durable] = {}


def declare(*, name: str, module: str, subject: str, handlers: Mapping[str, Handler]) -> Durable:
    """Register a durable pull consumer (one filter subject, one handler per message name)."""
    existing = _durables.get(name)
    if existing is not None and (existing.subject != subject or existing.module != module):
        raise ValueError(f"durable {name} declared twice with different settings")
    durable = Durable(name=name, module=module, subject=subject, handlers=dict(handlers))
    _durables[name] = durable
    return durable


def durables(modules: Iterable[str] | None = None) -> list[Durable]:
    wanted = set(modules) if modules else None
    return [d for name, d in sorted(_durables.items()) if wanted is None or d.module in wanted]


def get_durable(name: str) -> Durable:
    return _durables[name]


class Outcome(enum.Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"


_INBOX = (
    "INSERT INTO eventstore_inbox (consumer, message_id, name, subject, payload, metadata, sent_at, received_at)"
    " VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, now())"
)


class DuplicateDelivery(DatabaseError):
    """The inbox already holds (consumer, message id): the message was handled before.

    A ``DatabaseError`` (so ``atomic()`` rolls back when it surfaces at commit) but no ``IntegrityError``: a
    handler that expects a clash of its own writes does not take it for one.
    """


_DUPLICATE_DELIVERY = store.raising("eventstore_inbox_consumer_message", DuplicateDelivery)


class Rejected(Exception):
    """Raised by a handler whose message is answered without the handler's own writes (a command a business
    rule refused): ``handle`` rolls the message's transaction back and commits the inbox row with what
    ``answer()`` writes (the Failure reply) in a new one. Cheaper than a savepoint around every handler,
    which costs two round trips on the path that succeeds."""

    def __init__(self, answer: Callable[[], None]):
        super().__init__("the handler rejected the message")
        self.answer = answer


def handle(durable: Durable, envelope: Envelope, *, delivery: int = 1, savepoint: bool = True) -> Outcome:
    """Process one message for ``durable`` in one transaction (architecture.md §6 rule 2).

    A name the durable does not handle is SKIPPED (nothing written). Otherwise the inbox row is inserted
    first; if (consumer, message id) is already there the message was processed before: DUPLICATE, rolled
    back, no second effect. Then the handler runs under the message's context (with tracing on, in a
    ``process`` span whose parent is the message's ``traceparent``). Raises ``MalformedMessage`` for a
    payload that does not fit its contract (dead letter at once) and lets every handler error propagate
    after rollback (the caller naks or dead-letters). ``savepoint=False`` inside an enclosing ``atomic()``
    (the runner's batch transaction) makes any error doom that whole transaction instead, a duplicate too.

    The inbox insert is deferred (``store.write``): it travels with the handler's first statement, or with
    the commit, instead of costing a round trip of its own. A duplicate shows as the violation of the inbox's
    unique key there; the transaction rolls back, the handler's writes with it. A handler that raises
    ``Rejected`` has its transaction rolled back and its answer committed with the inbox row in a new one
    (inside a batch transaction, ``Rejected`` propagates like any error).
    """
    handler = durable.handlers.get(envelope.name)
    if handler is None:
        return Outcome.SKIPPED
    try:
        message_id = str(uuid.UUID(envelope.id))
    except ValueError as exc:
        raise MalformedMessage(f"message id {envelope.id!r} is not a UUID") from exc
    message = envelope.message()
    sent_at = _timestamp_or_none(envelope.sent_at)
    with tracing.span(f"{durable.name} process", parent=str(envelope.metadata.get("traceparent") or ""),
                      tracestate=str(envelope.metadata.get("tracestate") or ""), kind="consumer",
                      attributes=_span_attributes(durable, envelope, delivery) if tracing.active() else None), \
            context.use(context.from_message(message_id, envelope.metadata)):
        inbox_row = [durable.name, message_id, envelope.name, envelope.subject, codec.dumps(envelope.payload),
                     codec.dumps(envelope.metadata), sent_at]
        received = Received(envelope=envelope, message=message, durable=durable.name, delivery=delivery)
        try:
            try:
                _with_inbox_row(inbox_row, lambda: handler(received), savepoint=savepoint)
            except Rejected as rejected:
                if not savepoint:
                    raise
                _with_inbox_row(inbox_row, rejected.answer, savepoint=savepoint)
        except DuplicateDelivery:
            if not savepoint:
                raise
            return Outcome.DUPLICATE
    return Outcome.HANDLED


def _with_inbox_row(inbox_row: list[Any], body: Callable[[], None], *, savepoint: bool) -> None:
    with transactions.message(savepoint=savepoint):
        store.write(_INBOX, inbox_row, _DUPLICATE_DELIVERY)
        body()


def _span_attributes(durable: Durable, envelope: Envelope, delivery: int) -> dict[str, Any]:
    return {"messaging.system": "nats", "messaging.destination.name": envelope.subject,
            "messaging.consumer.group.name": durable.name, "messaging.message.id": envelope.id,
            "mallbots.message.name": envelope.name, "mallbots.delivery": delivery}


def _timestamp_or_none(text: str):
    try:
        return codec.parse_timestamp(text) if text else None
    except ValueError:
        return None


def error_record(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "text": str(exc),
            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-8000:]}


def record_dead_letter(durable_name: str, *, envelope: Envelope | None, raw: bytes | str = b"", subject: str = "",
                       message_id: str = "", deliveries: int, exc: BaseException) -> None:
    """Write (or refresh) the dead-letter row for a message in its own transaction."""
    from eventstore.models import DeadLetter

    raw_text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    with transaction.atomic():
        DeadLetter.objects.update_or_create(
            consumer=durable_name,
            message_id=envelope.id if envelope else (message_id or str(uuid.uuid4())),
            defaults={
                "name": envelope.name if envelope else "",
                "subject": envelope.subject if envelope else subject,
                "payload": envelope.payload if envelope else None,
                "metadata": envelope.metadata if envelope else None,
                "raw": "" if envelope else raw_text[:100000],
                "sent_at": _timestamp_or_none(envelope.sent_at) if envelope else None,
                "deliveries": deliveries,
                "error": error_record(exc),
                "replayed_at": None,
                "discarded_at": None,
            },
        )
