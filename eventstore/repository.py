"""Load and save event-sourced aggregates (architecture.md §5.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db import transaction

from eventstore import aggregate_cache, codec, ids, registry, store
from eventstore.domain import Aggregate, DomainEvent
from eventstore.errors import NotFound

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class RecordedEvent:
    """A domain event as handlers see it, after it was appended in the current transaction."""

    event: DomainEvent
    aggregate: Aggregate
    stream_type: str
    stream_id: str
    version: int
    event_id: str
    occurred_at: datetime
    metadata: dict[str, Any]


class Repository(Generic[A]):
    def __init__(self, aggregate_cls: type[A]):
        self.cls = aggregate_cls

    def load(self, id: str) -> A:
        """The aggregate at its latest version. Raises ``NotFound(<thing>)`` for unknown or malformed ids."""
        aggregate = self.find(id)
        if aggregate is None:
            raise NotFound(self.cls.thing)
        return aggregate

    def find(self, id: str) -> A | None:
        """The aggregate, or ``None``: from the process's cached state when it still holds, else the database."""
        if not ids.is_valid_id(id):
            return None
        cls = self.cls
        if cls.snapshot_name:
            aggregate = self._from_cache(id)
            if aggregate is not None:
                return aggregate
        aggregate = cls(id)
        snapshot, events = store.load_stream(cls.stream_type, id, cls.snapshot_name or "")
        if snapshot is not None:
            aggregate.restore_state(snapshot[1])
            aggregate.version = snapshot[0]
        if not events and snapshot is None:
            return None
        self._replay(aggregate, events)
        return aggregate

    def _from_cache(self, id: str) -> A | None:
        """The cached state plus the events after it, if the stored event at its version is the cached one."""
        cls, cache = self.cls, aggregate_cache.cache()
        entry = cache.get((cls.stream_type, id))
        if entry is None:
            return None
        rows = store.load_since(cls.stream_type, id, entry.version)
        if not rows or rows[0][0] != entry.version or rows[0][4] != entry.event_id:
            cache.discard((cls.stream_type, id))
            return None
        aggregate = cls(id)
        aggregate.restore_state(codec.loads(entry.state))
        aggregate.version = entry.version
        self._replay(aggregate, ((v, n, ev, store.decode_json(p)) for v, n, ev, p, _ in rows[1:]))
        return aggregate

    @staticmethod
    def _replay(aggregate: A, events) -> None:
        for version, name, event_version, payload in events:
            event_cls = registry.event_class(name)
            if event_version != event_cls.version:
                payload = registry.upcast(name, event_version, payload)
            aggregate.apply(event_cls.from_payload(payload))
            aggregate.version = version

    def create(self, aggregate: A) -> None:
        """Save a new aggregate (its stream must not exist yet: else ``ConcurrencyError``, as for ``save``)."""
        self.save(aggregate)

    def save(self, aggregate: A) -> None:
        """Append the pending events, snapshot if due, and run the in-transaction handlers.

        Precondition: inside ``transaction.atomic()``. The inserts are deferred (ADR 12): a version clash
        raises ``VersionConflict``, a ``ConcurrencyError``, at the transaction's next statement or when
        its block exits. Once the transaction commits, the saved state goes to the process's aggregate cache.
        """
        pending = aggregate.pending
        if not pending:
            return
        cls = self.cls
        before = aggregate.version
        rows = store.append(
            cls.stream_type, aggregate.id, before,
            (store.NewEvent(e.name, e.to_payload(), e.version) for e in pending), thing=cls.thing,
        )
        aggregate.pending = []
        aggregate.version = rows[-1].version
        every = store.snapshot_every()
        if cls.snapshot_name and every > 0 and before // every != aggregate.version // every:
            store.write_snapshot(cls.stream_type, aggregate.id, aggregate.version, cls.snapshot_name,
                                 aggregate.snapshot_state())
        if cls.snapshot_name:
            self._cache_on_commit(aggregate, rows[-1].event_id)
        for event, row in zip(pending, rows):
            recorded = RecordedEvent(event, aggregate, cls.stream_type, aggregate.id, row.version,
                                     row.event_id, row.occurred_at, row.metadata)
            for handler in registry.handlers_for(event):
                handler(recorded)

    def _cache_on_commit(self, aggregate: A, event_id: str) -> None:
        cache = aggregate_cache.cache()
        if cache.size <= 0:
            return
        key = (self.cls.stream_type, aggregate.id)
        entry = aggregate_cache.Entry(aggregate.version, event_id, codec.dumps(aggregate.snapshot_state()))
        transaction.on_commit(lambda: cache.put(key, entry))
