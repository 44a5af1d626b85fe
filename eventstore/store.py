"""The append-only event table: raw append and read, with the optimistic-concurrency guard."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from django.conf import settings
from django.db import IntegrityError, connection

from eventstore import codec, context
from eventstore.errors import OutboxError, VersionConflict
from eventstore.rows import fetch as fixed_read


@dataclass(frozen=True)
class NewEvent:
    name: str
    payload: dict[str, Any]
    event_version: int = 1


@dataclass(frozen=True)
class StoredRow:
    event_id: str
    version: int
    name: str
    event_version: int
    payload: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: datetime


_INSERT_PREFIX = (
    "INSERT INTO eventstore_event (event_id, stream_type, stream_id, version, event_name, event_version,"
    " payload, metadata, occurred_at) VALUES "
)
_ROW = "(%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s)"


def require_transaction() -> None:
    if not connection.in_atomic_block:
        raise OutboxError("event store and outbox writes must run inside transaction.atomic()")


def event_metadata() -> dict[str, Any]:
    ctx = context.current()
    metadata = {
        "correlation_id": ctx.correlation_id,
        "causation_id": ctx.causation_id,
        "traceparent": ctx.traceparent,
        "actor": ctx.actor,
    }
    if ctx.tracestate:
        metadata["tracestate"] = ctx.tracestate
    return metadata


def append(stream_type: str, stream_id: str, expected_version: int, events: Iterable[NewEvent],
           *, thing: str = "stream") -> list[StoredRow]:
    """Append ``events`` as versions ``expected_version + 1 …`` in one statement.

    Precondition: inside ``transaction.atomic()``. The insert is deferred (``write``): when another
    writer already stored one of those versions (unique stream_type, stream_id, version), the next
    statement or the commit raises ``VersionConflict``, a ``ConcurrencyError``.
    """
    require_transaction()
    events = list(events)
    if not events:
        return []
    metadata = event_metadata()
    metadata_json = codec.dumps(metadata)
    occurred_at = codec.utcnow()
    rows: list[StoredRow] = []
    params: list[Any] = []
    for offset, event in enumerate(events, start=1):
        row = StoredRow(str(uuid.uuid4()), expected_version + offset, event.name, event.event_version,
                        event.payload, metadata, occurred_at)
        rows.append(row)
        params += [row.event_id, stream_type, stream_id, row.version, row.name, row.event_version,
                   codec.dumps(row.payload), metadata_json, occurred_at]
    write(_INSERT_PREFIX + ", ".join([_ROW] * len(rows)), params,
          raising("eventstore_event_stream_version", lambda: VersionConflict(thing)), combinable=True)
    return rows


Translate = Callable[[Exception], Exception | None]
"""Maps a write's database error to the caller's exception, or ``None`` to keep the error as raised."""


def raising(marker: str, error: Callable[[], Exception]) -> Translate:
    """A ``Translate`` turning a database error whose text names ``marker`` (a constraint, the text of a raised
    exception) into ``error()``, and keeping any other error as raised."""
    return lambda exc: error() if marker in str(exc) else None


def write(sql: str, params: list[Any], translate: Translate | None = None, *, combinable: bool = False) -> None:
    """Run a write whose result nobody reads, deferred to the next statement or commit where the backend can.

    ``translate`` maps the database's error to the caller's (or ``None`` to keep it); it applies
    whether the write runs now or later (``eventstore.backend``, ADR 12). ``combinable``: a plain ``INSERT``
    whose effect no other write of the transaction reads (``eventstore.backend.base.one_statement``, ADR 35).
    """
    defer = getattr(connection, "defer", None)
    if defer is not None:
        defer(sql, params, translate, combinable=combinable)
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError as exc:
        translated = translate(exc) if translate else None
        if translated is not None:
            raise translated from exc
        raise


def decode_json(value: Any) -> Any:
    """A jsonb value as the driver returned it (text or already decoded) as Python data."""
    return codec.loads(value) if isinstance(value, (str, bytes)) else value


def read(stream_type: str, stream_id: str, after_version: int = 0) -> list[StoredRow]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_id, version, event_name, event_version, payload, metadata, occurred_at"
            " FROM eventstore_event WHERE stream_type = %s AND stream_id = %s AND version > %s ORDER BY version",
            [stream_type, stream_id, after_version],
        )
        return [StoredRow(str(r[0]), r[1], r[2], r[3], decode_json(r[4]), decode_json(r[5]), r[6])
                for r in cursor.fetchall()]


_LOAD = (
    "WITH s AS (SELECT version, state FROM eventstore_snapshot"
    " WHERE stream_type = %s AND stream_id = %s AND snapshot_name = %s)"
    " SELECT version, NULL, 0, state FROM s"
    " UNION ALL (SELECT version, event_name, event_version, payload FROM eventstore_event"
    " WHERE stream_type = %s AND stream_id = %s AND version > COALESCE((SELECT version FROM s), 0)"
    " ORDER BY version)"
)


def load_stream(stream_type: str, stream_id: str, snapshot_name: str) -> tuple[tuple[int, dict] | None,
                                                                          list[tuple[int, str, int, dict]]]:
    """In one round trip: the snapshot named ``snapshot_name`` (if any) and the events after it.

    Returns ``(snapshot, events)`` with ``snapshot = (version, state)`` or ``None`` and each event as
    ``(version, event_name, event_version, payload)`` in version order.
    """
    rows = fixed_read(_LOAD, [stream_type, stream_id, snapshot_name or "", stream_type, stream_id])
    snapshot = None
    if rows and rows[0][1] is None:
        snapshot = (rows[0][0], decode_json(rows[0][3]))
        rows = rows[1:]
    return snapshot, [(r[0], r[1], r[2], decode_json(r[3])) for r in rows]


_LOAD_SINCE = (
    "SELECT version, event_name, event_version, payload, event_id FROM eventstore_event"
    " WHERE stream_type = %s AND stream_id = %s AND version >= %s ORDER BY version"
)


def load_since(stream_type: str, stream_id: str, version: int) -> list[tuple[int, str, int, Any, str]]:
    """The events from ``version`` on (inclusive) as ``(version, event_name, event_version, payload, event_id)``.

    Payloads are left as the driver returns them (``decode_json`` turns one into a dict): the caller
    checks the first row against what it holds and only replays the rest.
    """
    return [(r[0], r[1], r[2], r[3], str(r[4])) for r in fixed_read(_LOAD_SINCE, [stream_type, stream_id, version])]


def write_snapshot(stream_type: str, stream_id: str, version: int, snapshot_name: str, state: dict[str, Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO eventstore_snapshot (stream_type, stream_id, version, snapshot_name, state, created_at)"
            " VALUES (%s, %s, %s, %s, %s::jsonb, now())"
            " ON CONFLICT (stream_type, stream_id) DO UPDATE SET version = EXCLUDED.version,"
            " snapshot_name = EXCLUDED.snapshot_name, state = EXCLUDED.state, created_at = now()"
            " WHERE eventstore_snapshot.version < EXCLUDED.version",
            [stream_type, stream_id, version, snapshot_name, codec.dumps(state)],
        )


def snapshot_every() -> int:
    return settings.EVENTSTORE_SNAPSHOT_EVERY
