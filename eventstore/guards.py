"""Version guards for handlers that can see one aggregate's events out of order (events.md §3, §8).

A durable keeps stream order only until a redelivery, a second consumer process on the same durable, or
a retried message; a handler whose effects must not be undone by an older event of the same aggregate
asks ``is_newest(received)`` first. The kernel table ``eventstore_appliedversion`` remembers, per scope
(the durable by default) and aggregate, the highest ``aggregate_version`` applied, and acts as the
tombstone of an aggregate whose later event was handled first.
"""

from __future__ import annotations

from django.db import connection

from eventstore.messaging import Received

_ADVANCE = (
    "INSERT INTO eventstore_appliedversion AS applied (scope, stream_type, stream_id, version, updated_at)"
    " VALUES (%s, %s, %s, %s, now())"
    " ON CONFLICT (scope, stream_type, stream_id)"
    " DO UPDATE SET version = EXCLUDED.version, updated_at = EXCLUDED.updated_at"
    " WHERE applied.version < EXCLUDED.version RETURNING 1"
)


def is_newest(received: Received, *, scope: str | None = None) -> bool:
    """Record that ``scope`` applies this event's aggregate version; False if it already applied this
    version or a later one of the same aggregate (the event is stale: acknowledge it, change nothing).

    Locks the aggregate's row until the message's transaction ends, so two processes handling events of
    one aggregate take turns and the second sees what the first recorded. Precondition: inside the
    message's transaction. A message without aggregate metadata (a command, a hand-made event) is
    always newest.
    """
    metadata = received.metadata
    stream_type, stream_id = metadata.get("aggregate_type"), metadata.get("aggregate_id")
    version = metadata.get("aggregate_version")
    if not stream_type or not stream_id or not isinstance(version, int):
        return True
    with connection.cursor() as cursor:
        cursor.execute(_ADVANCE, [scope or received.durable, stream_type, stream_id, version])
        return cursor.fetchone() is not None
