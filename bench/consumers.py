"""Consumer latency of quality.md §1.2: producing commit → handler committed in another module, at 200 msg/s.

``manage.py run_relay`` and ``manage.py run_consumers --modules toy`` run as subprocesses on the bench
database and the run's NATS (the project's stream is deleted before and after, so the durable
``toy-counters`` starts empty; earlier modules' unpublished outbox rows are marked published first).

Method: 100 toy ``Counter`` aggregates are opened (and their ``CounterOpened`` consumed) before the
clock starts. One writer then runs load + ``increment(by=i)`` + save through the repository, one
transaction per message (its in-transaction handler writes the ``toyapi.CounterIncremented`` outbox
row), paced at 200/s for 15 s (quick 5 s), round-robin over the counters, and records the wall clock
right after each commit returns. A bench-only trigger on ``eventstore_inbox`` (created in the bench
database for this module, dropped after) calls ``pg_notify`` when the ``toy-counters`` inbox row is
inserted; PostgreSQL delivers the notification only when the consumer's transaction — inbox row plus
the toy handler's ``Tally`` update — commits. A separate process LISTENs and timestamps each
notification (same host clock). p50/p99 of that arrival − the producing commit: an upper bound of
commit → handler committed (it adds the notification's delivery, well under a millisecond).
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

from bench import core
from bench.relay import (RATE, WARMUP_MESSAGES, Listener, delete_stream, latencies, latency_figures, manage,
                         paced, publish_leftovers, wait_for)

NAME = "consumers"
PROVIDES: tuple[str, ...] = ()
COUNTERS = 100
CHANNEL = "bench_toy_inbox"
DURABLE = "toy-counters"

_TRIGGER = f"""
CREATE OR REPLACE FUNCTION bench_toy_inbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', NEW.payload->>'by');
    RETURN NULL;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS bench_toy_inbox_notify ON eventstore_inbox;
CREATE TRIGGER bench_toy_inbox_notify AFTER INSERT ON eventstore_inbox FOR EACH ROW
WHEN (NEW.consumer = '{DURABLE}' AND NEW.name = 'toyapi.CounterIncremented')
EXECUTE FUNCTION bench_toy_inbox_notify();
"""
_DROP_TRIGGER = ("DROP TRIGGER IF EXISTS bench_toy_inbox_notify ON eventstore_inbox;"
                 " DROP FUNCTION IF EXISTS bench_toy_inbox_notify();")


def _execute(conninfo: str, sql: str, params=None):
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


def _handled(conninfo: str, name: str, prefix: str) -> int:
    return _execute(conninfo, "SELECT count(*) FROM eventstore_inbox WHERE consumer = %s AND name = %s"
                              " AND payload->>'id' LIKE %s", [DURABLE, name, prefix + "%"])[0]


class Writer:
    def __init__(self, tag: str) -> None:
        from eventstore.repository import Repository
        from toyapp.domain import Counter

        self.repo, self.Counter, self.tag = Repository(Counter), Counter, tag
        self.ids: list[str] = []

    def open(self, count: int) -> None:
        from django.db import transaction

        for n in range(count):
            counter = self.Counter.open(f"{self.tag}-{n}", "bench", Decimal("0.00"))
            with transaction.atomic():
                self.repo.create(counter)
            self.ids.append(counter.id)

    def increment(self, i: int) -> tuple[str, float]:
        from django.db import transaction

        with transaction.atomic():
            counter = self.repo.load(self.ids[i % len(self.ids)])
            counter.increment(i + 1)
            self.repo.save(counter)
        return str(i + 1), time.time()


def run(ctx: core.Context) -> list[core.Figure]:
    seconds = ctx.scale(15, 5)
    tag = f"bench-consumer-{uuid.uuid4().hex[:8]}"
    try:
        delete_stream(ctx)
        publish_leftovers(ctx.conninfo)
        _execute(ctx.conninfo, _TRIGGER)
        with manage(ctx, "consumers-run_relay", "run_relay", ready="listening on"), \
                manage(ctx, "consumers-run_consumers", "run_consumers", "--modules", "toy",
                       ready=f"{DURABLE}: consuming"):
            writer = Writer(tag)
            writer.open(COUNTERS)
            if not wait_for(lambda: _handled(ctx.conninfo, "toyapi.CounterOpened", tag) >= COUNTERS, 60, 0.2):
                raise RuntimeError(f"{DURABLE} did not handle the {COUNTERS} CounterOpened messages within 60 s")
            listener = Listener(ctx, "consumers-listener", "pg", ctx.conninfo, CHANNEL)
            try:
                committed, achieved = paced(RATE, seconds, writer.increment)
                wait_for(lambda: _handled(ctx.conninfo, "toyapi.CounterIncremented", tag) >= len(committed), 30, 0.1)
                time.sleep(0.3)
            finally:
                arrived = listener.stop()
        return latency_figures(
            "consumer_latency", latencies(committed, arrived), len(committed) - WARMUP_MESSAGES, achieved, 20, 100,
            f"producing commit returned (writer's wall clock; repository load + increment + save + outbox row) → "
            f"commit of the {DURABLE} inbox row + toy handler, seen as a pg_notify from a bench-only trigger by a "
            f"LISTENing process (same host clock): an upper bound; relay and run_consumers --modules toy as "
            f"subprocesses, {COUNTERS} counters round-robin")
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return [core.skipped("consumer_latency_p50", reason, unit="ms"),
                core.skipped("consumer_latency_p99", reason, unit="ms")]
    finally:
        for cleanup in (lambda: _execute(ctx.conninfo, _DROP_TRIGGER), lambda: delete_stream(ctx)):
            try:
                cleanup()
            except Exception:  # noqa: BLE001 - best effort, the figures are already taken
                pass
