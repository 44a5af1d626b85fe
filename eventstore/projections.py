"""Rebuilding an app's read models from the event store (architecture.md §9, ``manage.py rebuild_projections``).

Apps declare their read-model tables in ``AppConfig.ready()``; the kernel knows no app. Two kinds:

- **In-transaction** (stores, customers, baskets, ordering, depot, payments): the tables are written by
  the app's ``@projection`` handlers when its aggregates save::

      projections.declare(app="stores", tables=[models.Store, models.Product])

  A rebuild replays the app's own streams (the aggregates its modules define) through those handlers.

- **Broker-fed** (search, notifications, the caches of baskets and depot): the tables are written by the
  handlers of the app's durables::

      projections.declare(app="search", tables=[...], durables=["search-orders", ...],
                          sources=["ordering.Order", "customers.Customer", ...])

  A rebuild replays the ``sources`` streams through the publishing apps' other in-transaction handlers
  (their outbox translation) with the outbox diverted (``outbox.diverted``), and hands each re-derived
  integration message that one of the durables handles straight to its handler (no inbox, no broker,
  nothing sent). The messages are the ones the live system published: same names, payloads, aggregate
  versions and ``occurred_at``.

An app may declare both kinds; ``rebuild(app)`` rebuilds all its groups in one pass over the union of
their streams. It runs in one transaction: lock the tables in EXCLUSIVE mode (readers keep seeing the old
rows until commit; writers of these tables wait), empty them (in reverse declaration order: children
last declared), replay the events up to the newest position in ``global_position`` order, write the
checkpoint ``projections.<app>`` with that position, commit. Events committed meanwhile are applied by
their own transaction (in-transaction: it waits for the lock) or by the live consumer (broker-fed: the
handlers' version rules make the second application a no-op).

Each replayed event sees its aggregate as of that event (``RecordedEvent.aggregate``), rebuilt in memory;
at most ``AGGREGATES_IN_MEMORY`` aggregates are kept, an evicted one is read again from its stream.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from django.apps import apps
from django.db import connection, models, transaction

from eventstore import context, messaging, outbox, registry, store
from eventstore.domain import Aggregate
from eventstore.errors import RetryLater
from eventstore.repository import RecordedEvent

PAGE = 1000
AGGREGATES_IN_MEMORY = 10_000
CHECKPOINT_PREFIX = "projections."

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReadModels:
    """What ``rebuild_projections <app>`` empties and how it refills it."""

    app: str
    tables: tuple[type[models.Model], ...]
    durables: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def broker_fed(self) -> bool:
        return bool(self.durables)


@dataclass
class Summary:
    app: str
    events: int = 0
    messages: int = 0
    position: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


_declared: dict[str, list[ReadModels]] = {}


def declare(*, app: str, tables: Sequence[type[models.Model]], durables: Sequence[str] = (),
            sources: Sequence[str] = ()) -> ReadModels:
    """Register a group of ``app``'s read-model tables (parents first). With ``durables`` they are broker-fed
    from the integration events of the ``sources`` stream types; without, they are the app's ``@projection``
    tables. An app may declare both kinds (e.g. its own read models and its caches of another app's data)."""
    if bool(durables) != bool(sources):
        raise ValueError(f"{app}: broker-fed read models need both durables and sources")
    group = ReadModels(app=app, tables=tuple(tables), durables=tuple(durables), sources=tuple(sources))
    groups = _declared.setdefault(app, [])
    if group not in groups:
        taken = {model for other in groups for model in other.tables}
        if taken & set(group.tables):
            raise ValueError(f"read models of {app} declared twice with different settings")
        groups.append(group)
    return group


def apps_with_read_models() -> list[str]:
    return sorted(_declared)


def groups_of(app: str) -> list[ReadModels]:
    try:
        return list(_declared[app])
    except KeyError:
        raise LookupError(f"{app} declares no read models; apps that do: {', '.join(sorted(_declared))}") from None


def own_stream_types(app: str) -> list[str]:
    """The stream types of the aggregates defined in ``app`` (test modules left out)."""
    return sorted(cls.stream_type for cls in registry.all_aggregates()
                  if ".tests." not in cls.__module__
                  and getattr(apps.get_containing_app_config(cls.__module__), "label", None) == app)


def rebuild(app: str, *, progress: Progress | None = None) -> Summary:
    """Empty ``app``'s read models and replay the event store into them, in one transaction (module doc)."""
    groups = groups_of(app)
    started = time.monotonic()
    summary = Summary(app=app)
    own = set(own_stream_types(app)) if any(not group.broker_fed for group in groups) else set()
    fed: dict[str, list[messaging.Durable]] = {}
    for group in groups:
        for stream_type in group.sources:
            fed.setdefault(stream_type, []).extend(messaging.get_durable(name) for name in group.durables)
    stream_types = sorted(own | set(fed))
    tables = [model._meta.db_table for group in groups for model in group.tables]
    with transaction.atomic(), context.use(context.new_context()):
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {', '.join(connection.ops.quote_name(t) for t in tables)} IN EXCLUSIVE MODE")
            for table in reversed(tables):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
            cursor.execute("SELECT coalesce(max(global_position), 0), count(*) FROM eventstore_event"
                           " WHERE stream_type = ANY(%s)", [stream_types])
            top, total = cursor.fetchone()
        for recorded in _replay(stream_types, top, _Aggregates(AGGREGATES_IN_MEMORY)):
            if recorded.stream_type in own:
                _into_projections(recorded)
            if recorded.stream_type in fed:
                summary.messages += _into_durables(recorded, fed[recorded.stream_type])
            summary.events += 1
            if progress is not None:
                progress(summary.events, total)
        _write_checkpoint(app, top)
        summary.position = top
        summary.rows = {model._meta.label: model.objects.count() for group in groups for model in group.tables}
    summary.seconds = time.monotonic() - started
    return summary


def _into_projections(recorded: RecordedEvent) -> None:
    with outbox.diverted() as published:
        for handler in registry.handlers_for(recorded.event):
            if registry.is_projection(handler):
                handler(recorded)
    if published:
        raise RuntimeError(f"a projection of {recorded.event.name} published {published[0].name}: projections "
                           "write read models only (use @handles for the outbox translation)")


def _into_durables(recorded: RecordedEvent, durables: list[messaging.Durable]) -> int:
    """Re-derive the event's integration messages and run the handlers of ``durables`` for them."""
    with outbox.diverted() as envelopes:
        for handler in registry.handlers_for(recorded.event):
            if not registry.is_projection(handler):
                handler(recorded)
    applied = 0
    for envelope in envelopes:
        for durable in durables:
            handler = durable.handlers.get(envelope.name)
            if durable.subject != envelope.subject or handler is None:
                continue
            received = messaging.Received(envelope=envelope, message=envelope.message(), durable=durable.name)
            with context.use(context.from_message(envelope.id, envelope.metadata)):
                try:
                    handler(received)
                except RetryLater as exc:
                    raise RuntimeError(f"{durable.name} cannot apply {envelope.name} of {recorded.stream_type} "
                                       f"{recorded.stream_id} in replay: {exc}") from exc
            applied += 1
    return applied


_PAGE_SQL = (
    "SELECT global_position, event_id, stream_type, stream_id, version, event_name, event_version, payload,"
    " metadata, occurred_at FROM eventstore_event"
    " WHERE stream_type = ANY(%s) AND global_position > %s AND global_position <= %s"
    " ORDER BY global_position LIMIT %s"
)


def _replay(stream_types: list[str], top: int, aggregates: "_Aggregates") -> Iterable[RecordedEvent]:
    after = 0
    while after < top:
        with connection.cursor() as cursor:
            cursor.execute(_PAGE_SQL, [stream_types, after, top, PAGE])
            rows = cursor.fetchall()
        if not rows:
            return
        for position, event_id, stream_type, stream_id, version, name, event_version, payload, metadata, at in rows:
            event = _event(name, event_version, store.decode_json(payload))
            aggregate = aggregates.advance(stream_type, stream_id, version, event)
            yield RecordedEvent(event, aggregate, stream_type, stream_id, version, str(event_id), at,
                                store.decode_json(metadata))
            after = position


def _event(name: str, event_version: int, payload: dict):
    event_cls = registry.event_class(name)
    if event_version != event_cls.version:
        payload = registry.upcast(name, event_version, payload)
    return event_cls.from_payload(payload)


class _Aggregates:
    """The replayed aggregates, least recently used first out; an evicted one is rebuilt from its stream."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple[str, str], Aggregate] = OrderedDict()

    def advance(self, stream_type: str, stream_id: str, version: int, event) -> Aggregate:
        key = (stream_type, stream_id)
        aggregate = self._items.pop(key, None)
        if aggregate is None or aggregate.version != version - 1:
            aggregate = self._load(stream_type, stream_id, before=version)
        aggregate.apply(event)
        aggregate.version = version
        self._items[key] = aggregate
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return aggregate

    @staticmethod
    def _load(stream_type: str, stream_id: str, *, before: int) -> Aggregate:
        cls = registry.aggregate_class(stream_type)
        if cls is None:
            raise LookupError(f"no aggregate class for stream type {stream_type}")
        aggregate = cls(stream_id)
        for row in store.read(stream_type, stream_id):
            if row.version >= before:
                break
            aggregate.apply(_event(row.name, row.event_version, row.payload))
            aggregate.version = row.version
        return aggregate


def _write_checkpoint(app: str, position: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO eventstore_checkpoint (name, position, updated_at) VALUES (%s, %s, now())"
            " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at",
            [CHECKPOINT_PREFIX + app, position])
