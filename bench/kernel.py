"""Event store kernel figures (quality.md §1.2) with their baselines, measured in alternating rounds.

Each round measures, one after the other: ``pg_insert``, the ``eventsourcing`` peer (new and existing
aggregates), raw ``eventstore.store.append``, and the command path through the repository for new and
existing aggregates. Medians over the rounds; alternating keeps drift on a shared box from favouring
either side. The command path uses the toy ``Counter`` of the example app ``toyapp`` (installed by
``bench.settings``): its in-transaction handlers write one outbox row per event.
"""

from __future__ import annotations

import contextlib
import uuid
from decimal import Decimal
from typing import Iterator

from bench import core, payloads
from bench.es_peer import Peer
from bench.pg_insert import NOTE as PG_NOTE, PgInsert
from bench.sql_floor import SqlFloor

NAME = "kernel"
PROVIDES = ("pg_insert", "pg_insert_three_round_trips", "eventsourcing_new", "eventsourcing_existing", "eventsourcing_existing_cached",
            "load_10_events")
SNAPSHOT_EVERY = 50
EXISTING_NOTE = "{k} aggregates opened per round, then round-robin (≈ versions 2–{v})"


class Kernel:
    def __init__(self):
        from eventstore.repository import Repository
        from toyapp.domain import Counter

        self.repo, self.Counter = Repository(Counter), Counter
        self.events = [self._new_event(payloads.json_payload(300))]

    @staticmethod
    def _new_event(payload: dict):
        from eventstore import store

        return store.NewEvent("bench.RawAppended", payload)

    def raw_append(self, _: int = 0) -> None:
        from django.db import transaction

        from eventstore import store

        with transaction.atomic():
            store.append("bench.Raw", str(uuid.uuid4()), 0, self.events)

    def open(self, count: int = 1, events: int = 1) -> list[str]:
        """``count`` new counters with ``events`` events each, one transaction per counter."""
        from django.db import transaction

        ids = []
        for _ in range(count):
            counter = self.Counter.open(str(uuid.uuid4()), "bench", Decimal("12.50"))
            for _ in range(events - 1):
                counter.increment(1)
            with transaction.atomic():
                self.repo.create(counter)
            ids.append(counter.id)
        return ids

    def increment(self, counter_id: str, by_events: int = 1) -> None:
        from django.db import transaction

        with transaction.atomic():
            counter = self.repo.load(counter_id)
            for _ in range(by_events):
                counter.increment(1)
            self.repo.save(counter)

    def stream_of(self, events: int) -> str:
        """A counter with ``events`` events whose snapshots sit where one event per transaction puts them.

        Saves of 10 events from version 10 on cross every multiple of 50 exactly at that multiple.
        """
        [counter_id] = self.open(1, events=min(10, events))
        written = min(10, events)
        while written < events:
            step = min(10, events - written)
            self.increment(counter_id, step)
            written += step
        return counter_id

    def load(self, counter_id: str) -> None:
        self.repo.load(counter_id)


@contextlib.contextmanager
def aggregate_cache_off(ctx: core.Context) -> Iterator[None]:
    """``EVENTSTORE_AGGREGATE_CACHE_SIZE = 0`` inside the block: every load reads the stream (from its snapshot)."""
    cache_size, ctx.settings.EVENTSTORE_AGGREGATE_CACHE_SIZE = ctx.settings.EVENTSTORE_AGGREGATE_CACHE_SIZE, 0
    try:
        yield
    finally:
        ctx.settings.EVENTSTORE_AGGREGATE_CACHE_SIZE = cache_size


def run(ctx: core.Context) -> list[core.Figure]:
    ctx.settings.EVENTSTORE_SNAPSHOT_EVERY = SNAPSHOT_EVERY
    seconds, per_round = ctx.seconds, ctx.scale(150, 60)
    kernel = Kernel()
    try:
        peer, peer_error = Peer(ctx.settings.DATABASES["default"]), None
    except Exception as exc:
        peer, peer_error = None, f"eventsourcing unavailable ({type(exc).__name__}: {exc})"
    samples: dict[str, list[float]] = {k: [] for k in ("pg", "pg3", "es_new", "es_existing", "es_cached", "raw",
                                                       "new", "existing", "existing_uncached", "floor_append",
                                                       "floor_new", "floor_existing")}
    core.run_for(60, kernel.raw_append, max_ops=100)
    kernel.open(50)
    try:
        with PgInsert(ctx.conninfo) as pg, SqlFloor(ctx.conninfo) as floor:
            for _ in range(ctx.reps):
                samples["pg"].append(pg.rep(seconds))
                samples["pg3"].append(pg.rep_three_round_trips(seconds / 2))
                samples["floor_append"].append(core.run_for(seconds / 2, floor.append))
                samples["floor_new"].append(core.run_for(seconds / 2, floor.new))
                floor.open(per_round)
                samples["floor_existing"].append(core.run_for(seconds / 2, floor.existing))
                if peer is not None:
                    samples["es_new"].append(peer.rep_new(seconds))
                    samples["es_existing"].append(peer.rep_existing(seconds, peer.open(per_round)))
                    samples["es_cached"].append(peer.rep_existing(seconds, peer.open(per_round), cached=True))
                samples["raw"].append(core.run_for(seconds, kernel.raw_append))
                samples["new"].append(core.run_for(seconds, lambda i: kernel.open()))
                ids = kernel.open(per_round)
                samples["existing"].append(core.run_for(seconds, lambda i: kernel.increment(ids[i % len(ids)])))
                ids = kernel.open(per_round)
                with aggregate_cache_off(ctx):
                    samples["existing_uncached"].append(
                        core.run_for(seconds, lambda i: kernel.increment(ids[i % len(ids)])))
    finally:
        if peer is not None:
            peer.close()

    with aggregate_cache_off(ctx):
        streams = {events: kernel.stream_of(events) for events in (10, 1000, 1049)}
        load_ms: dict[int, list[float]] = {events: [] for events in streams}
        for _ in range(ctx.reps):
            for events, counter_id in streams.items():
                load_ms[events].append(1000 / core.run_for(seconds / 4, lambda i: kernel.load(counter_id)))

    def versions(rates: list[float]) -> str:
        return EXISTING_NOTE.format(k=per_round, v=1 + round(core.median(rates) * seconds / per_round)) if rates else ""

    pg = core.measured("pg_insert", samples["pg"], "rows/s", note=PG_NOTE)
    pg3 = core.measured("pg_insert_three_round_trips", samples["pg3"], "rows/s", baseline=pg, target="informational",
                        note="BEGIN, INSERT, COMMIT as three round trips (psycopg outside autocommit): not the limit")
    if peer is None:
        es_new = core.skipped("eventsourcing_new", peer_error, unit="events/s")
        es_existing = core.skipped("eventsourcing_existing", peer_error, unit="events/s")
        es_cached = core.skipped("eventsourcing_existing_cached", peer_error, unit="events/s")
    else:
        es_new = core.measured("eventsourcing_new", samples["es_new"], "events/s",
                               note=f"{peer.note}: one new aggregate (one event) per save")
        es_existing = core.measured("eventsourcing_existing", samples["es_existing"], "events/s",
                                    note=f"get + one event + save, no aggregate cache; "
                                         f"{versions(samples['es_existing'])}")
        es_cached = core.measured("eventsourcing_existing_cached", samples["es_cached"], "events/s",
                                  note="as eventsourcing_existing, with the library's aggregate cache"
                                       " (AGGREGATE_CACHE_MAXSIZE=2000, fast-forward)")
    new_note = "Counter.open + repository.create (+ outbox row by the handler), one transaction each"
    existing_note = (f"load + increment + save (+ outbox row) in one transaction, aggregate cache on (as deployed);"
                     f" {versions(samples['existing'])}")
    uncached_note = (f"as command_existing with the aggregate cache off (load from the snapshot + events);"
                     f" {versions(samples['existing_uncached'])}")
    floor_note = ("the event store's statements for {what}, sent by psycopg alone as the backend sends them, "
                  "prepared, in autocommit (bench/sql_floor.py): the ratio the kernel could reach with no Python "
                  "around them")
    floors = [
        core.measured("event_append_sql_floor", samples["floor_append"], "events/s", baseline=pg,
                      target="informational", note=floor_note.format(what="event_append (one statement)")),
        core.measured("command_new_sql_floor", samples["floor_new"], "events/s", baseline=pg, target="informational",
                      note=floor_note.format(what="command_new: event + outbox row (one statement)")),
        core.measured("command_existing_sql_floor", samples["floor_existing"], "events/s", baseline=pg,
                      target="informational",
                      note=floor_note.format(what="command_existing: the cache's read, then event + outbox row "
                                                  "(two round trips)")),
    ]
    ten = core.measured("load_10_events", load_ms[10], "ms",
                        note="repository.load of a 10-event stream (no snapshot), aggregate cache off")
    return [
        pg, pg3, es_new, es_existing, es_cached,
        core.measured("event_append", samples["raw"], "events/s", baseline=pg, at_least=0.6,
                      note="eventstore.store.append of one ~300-byte event per transaction.atomic(), new stream each"),
        core.measured("command_new", samples["new"], "events/s", baseline=pg, at_least=0.5, note=new_note),
        core.measured("command_new_vs_es", samples["new"], "events/s", baseline=es_new, at_least=1.2),
        core.measured("command_existing", samples["existing"], "events/s", baseline=pg, at_least=0.4,
                      note=existing_note),
        core.measured("command_existing_vs_es_cached", samples["existing"], "events/s", baseline=es_cached,
                      at_least=1.2, note="cache on against cache on"),
        core.measured("command_existing_uncached", samples["existing_uncached"], "events/s", baseline=pg,
                      target="informational", note=uncached_note),
        core.measured("command_existing_uncached_vs_es", samples["existing_uncached"], "events/s",
                      baseline=es_existing, at_least=1.2, note="cache off against cache off"),
        *floors,
        ten,
        core.measured("load_1000_events", load_ms[1000], "ms", baseline=ten, at_most=2,
                      note=f"snapshot every {SNAPSHOT_EVERY}: snapshot at 1000 + 0 events to replay"),
        core.measured("load_1049_events", load_ms[1049], "ms", baseline=ten, target="informational",
                      note="worst case between snapshots: snapshot at 1000 + 49 events to replay"),
    ]
