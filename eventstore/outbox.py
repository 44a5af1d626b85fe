"""The transactional outbox writer (architecture.md §5.4): nothing leaves the process before commit."""

from __future__ import annotations

import contextlib
import uuid
from contextvars import ContextVar
from typing import Any, Iterator

from eventstore import codec, schema, store
from eventstore.envelope import Envelope
from eventstore.repository import RecordedEvent

_capture: ContextVar[list[Envelope] | None] = ContextVar("mallbots_outbox_capture", default=None)

_INSERT = (
    "INSERT INTO eventstore_outbox (message_id, name, subject, payload, metadata, sent_at, attempts, last_error)"
    " VALUES (%s, %s, %s, %s::jsonb, %s::jsonb, %s, 0, '')"
)


def publish(message: Any, *, recorded: RecordedEvent | None = None, subject: str | None = None,
            headers: dict[str, Any] | None = None) -> str:
    """Write ``message`` (a registered contract dataclass) to the outbox; return its message id.

    Precondition: inside ``transaction.atomic()`` (raises ``OutboxError`` otherwise). The insert is
    deferred to the transaction's next statement or commit (``store.write``). Metadata gets
    correlation, causation, trace context and actor from the current context; ``recorded`` adds
    the aggregate type, id, version and ``occurred_at``; ``headers`` adds command/reply keys.
    Inside ``diverted()`` the message goes to that block's list instead of the outbox.
    """
    store.require_transaction()
    metadata = store.event_metadata()
    if recorded is not None:
        metadata.update(recorded.metadata)
        metadata.update({
            "aggregate_type": recorded.stream_type,
            "aggregate_id": recorded.stream_id,
            "aggregate_version": recorded.version,
            "occurred_at": codec.format_timestamp(recorded.occurred_at),
        })
    if headers:
        metadata.update(headers)
    message_id = str(uuid.uuid4())
    capture = _capture.get()
    if capture is not None:
        capture.append(Envelope(id=message_id, name=message.message_name, subject=subject or message.subject,
                                payload=codec.loads(codec.dumps(schema.to_dict(message))),
                                metadata=codec.loads(codec.dumps(metadata)), sent_at=codec.format_timestamp(codec.utcnow())))
        return message_id
    store.write(_INSERT, [message_id, message.message_name, subject or message.subject,
                          codec.dumps(schema.to_dict(message)), codec.dumps(metadata), codec.utcnow()], combinable=True)
    return message_id


@contextlib.contextmanager
def diverted() -> Iterator[list[Envelope]]:
    """Within the block, ``publish`` appends each message's envelope (as a consumer would decode it) to the
    yielded list and writes nothing: replays re-derive integration events without sending them again."""
    envelopes: list[Envelope] = []
    token = _capture.set(envelopes)
    try:
        yield envelopes
    finally:
        _capture.reset(token)
