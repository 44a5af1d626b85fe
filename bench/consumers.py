"""Consumer latency of quality.md §1.2: producing commit → handler committed in another module, at 200 msg/s,
for a toy handler and for a real module handler (the depot's create-shopping-list command and its reply
into the create-order saga).

Toy handler: ``manage.py run_relay`` and ``manage.py run_consumers --modules toy`` run as subprocesses on the bench
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

Real handler (``depot_part``): the relay and ``run_consumers --modules depot`` and ``--modules ordering`` (one
process per module, as ``run_all``) run on the bench database; 5 stores with 10 products each are created
through ``stores.services`` first and the depot's store caches are filled from their events. The writer then
does what the create-order saga does when it moves to step 2, paced at 200/s: in one transaction, a saga
instance of ``cosec.CreateOrder`` at step 2 and the ``depotapi.CreateShoppingListCommand`` (2 items of one
store, a new order id each) with the saga's reply headers. A bench-only trigger notifies when the
``depot-commands`` inbox row of the command commits (the depot's handler: advisory lock, the store caches,
the list aggregate, its projection and integration event, the reply) and when the ``ordering-replies`` inbox
row of the ``CreatedShoppingListReply`` commits (the saga's reply handler: the instance moves to step 3 and
sends ``ConfirmPayment``, which nothing consumes here). Figures: ``consumer_latency_depot_*`` (commit →
depot handler committed) and ``consumer_latency_saga_reply_*`` (commit → the reply handled by the saga: two
hops through the relay and JetStream).
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Callable

from bench import core, procstats
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

DEPOT_CHANNEL = "bench_depot_inbox"
DEPOT_DURABLE, REPLY_DURABLE = "depot-commands", "ordering-replies"
DEPOT_STORES, DEPOT_PRODUCTS = 5, 10
_DEPOT_TRIGGER = f"""
CREATE OR REPLACE FUNCTION bench_depot_inbox_notify() RETURNS trigger AS $$
BEGIN
    IF NEW.consumer = '{DEPOT_DURABLE}' THEN
        PERFORM pg_notify('{DEPOT_CHANNEL}', 'd:' || (NEW.payload->>'order_id'));
    ELSE
        PERFORM pg_notify('{DEPOT_CHANNEL}', 'r:' || (NEW.metadata->>'REPLY_SAGA_ID'));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS bench_depot_inbox_notify ON eventstore_inbox;
CREATE TRIGGER bench_depot_inbox_notify AFTER INSERT ON eventstore_inbox FOR EACH ROW
WHEN ((NEW.consumer = '{DEPOT_DURABLE}' AND NEW.name = 'depotapi.CreateShoppingListCommand')
      OR (NEW.consumer = '{REPLY_DURABLE}' AND NEW.name = 'depotapi.CreatedShoppingListReply'))
EXECUTE FUNCTION bench_depot_inbox_notify();
"""
_DROP_DEPOT_TRIGGER = ("DROP TRIGGER IF EXISTS bench_depot_inbox_notify ON eventstore_inbox;"
                       " DROP FUNCTION IF EXISTS bench_depot_inbox_notify();")


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


class SagaStepWriter:
    """Moves fresh create-order saga instances to step 2 as the saga does: instance row + the depot's command."""

    def __init__(self) -> None:
        self.products: list[tuple[str, str]] = []

    def catalog(self) -> None:
        """``DEPOT_STORES`` stores with ``DEPOT_PRODUCTS`` products each, through the stores use cases."""
        from stores import services

        for s in range(DEPOT_STORES):
            store_id = services.create_store(name=f"Bench Store {s}", location=f"Level 1, unit {s}")
            for p in range(DEPOT_PRODUCTS):
                product_id = services.add_product(store_id=store_id, name=f"Bench Product {p}", description="",
                                                  sku=f"BENCH-{s}-{p}", price=Decimal("2.50"))
                self.products.append((store_id, product_id))

    def step(self, i: int) -> tuple[str, float]:
        from django.db import transaction
        from django.utils import timezone

        from depot.contracts import CreateShoppingListCommand, CreateShoppingListItem
        from eventstore.commands import SagaHeaders, send_command
        from eventstore.ids import new_id
        from eventstore.models import SagaInstance
        from ordering import saga

        order_id = new_id()
        first = (i * 2) % len(self.products)
        lines = [self.products[first], self.products[first + 1]]
        data = {"order_id": order_id, "customer_id": new_id(), "payment_id": new_id(), "shopping_id": "",
                "items": [{"product_id": p, "store_id": s, "price": "2.50", "quantity": 1} for s, p in lines],
                "total": "5.00"}
        with transaction.atomic():
            SagaInstance.objects.create(saga_name=saga.NAME, saga_id=order_id, data=data, step=2,
                                        compensating=False, status="running", step_sent_at=timezone.now(),
                                        version=1)
            send_command(CreateShoppingListCommand(order_id=order_id, items=tuple(
                CreateShoppingListItem(product_id=p, store_id=s, quantity=1) for s, p in lines)),
                reply_channel=saga.REPLY_CHANNEL,
                saga=SagaHeaders(saga_id=order_id, saga_name=saga.NAME, step=2, compensating=False))
        return order_id, time.time()


def _depot_caches_filled(conninfo: str) -> bool:
    return _execute(conninfo, "SELECT count(*) FROM depot_productcache")[0] >= DEPOT_STORES * DEPOT_PRODUCTS


def _with_cleanup(ctx: core.Context, part: Callable[[], list[core.Figure]], names: tuple[str, ...],
                  drop: str) -> list[core.Figure]:
    try:
        return part()
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return [core.skipped(name, reason, unit="ms") for name in names]
    finally:
        for cleanup in (lambda: _execute(ctx.conninfo, drop), lambda: delete_stream(ctx)):
            try:
                cleanup()
            except Exception:  # noqa: BLE001 - best effort, the figures are already taken
                pass


def toy_part(ctx: core.Context) -> list[core.Figure]:
    seconds = ctx.scale(15, 5)
    tag = f"bench-consumer-{uuid.uuid4().hex[:8]}"
    delete_stream(ctx)
    publish_leftovers(ctx.conninfo)
    _execute(ctx.conninfo, _TRIGGER)
    with manage(ctx, "consumers-run_relay", "run_relay", ready="listening on") as relay, \
            manage(ctx, "consumers-run_consumers", "run_consumers", "--modules", "toy",
                   ready=f"{DURABLE}: consuming") as consumer:
        writer = Writer(tag)
        writer.open(COUNTERS)
        if not wait_for(lambda: _handled(ctx.conninfo, "toyapi.CounterOpened", tag) >= COUNTERS, 60, 0.2):
            raise RuntimeError(f"{DURABLE} did not handle the {COUNTERS} CounterOpened messages within 60 s")
        listener = Listener(ctx, "consumers-listener", "pg", ctx.conninfo, CHANNEL)
        groups = {relay.pid: "relay", consumer.pid: "consumer"}
        try:
            with procstats.Watch(lambda: groups) as watch:
                committed, achieved = paced(RATE, seconds, writer.increment)
                wait_for(lambda: _handled(ctx.conninfo, "toyapi.CounterIncremented", tag) >= len(committed), 30, 0.1)
            time.sleep(0.3)
        finally:
            arrived = listener.stop()
    cpu = watch.cpu_by_role()
    cpu_figures = [core.measured(f"{role}_cpu_per_message", [1000 * cpu.get(role, 0.0) / len(committed)], "CPU ms/msg",
                                 target="reported", note=note) for role, note in (
        ("relay", "CPU of the relay process per message published at 200 msg/s (psutil; the toy figure's run)"),
        ("consumer", f"CPU of run_consumers --modules toy per message handled ({DURABLE}: inbox row + one UPDATE), "
                     f"fetch, ack and log included"))]
    return cpu_figures + latency_figures(
        "consumer_latency", latencies(committed, arrived), len(committed) - WARMUP_MESSAGES, achieved, 20, 100,
        f"producing commit returned (writer's wall clock; repository load + increment + save + outbox row) → "
        f"commit of the {DURABLE} inbox row + toy handler, seen as a pg_notify from a bench-only trigger by a "
        f"LISTENing process (same host clock): an upper bound; relay and run_consumers --modules toy as "
        f"subprocesses, {COUNTERS} counters round-robin")


def depot_part(ctx: core.Context) -> list[core.Figure]:
    seconds = ctx.scale(15, 5)
    delete_stream(ctx)
    publish_leftovers(ctx.conninfo)
    _execute(ctx.conninfo, _DEPOT_TRIGGER)
    writer = SagaStepWriter()
    with manage(ctx, "consumers-depot-run_relay", "run_relay", ready="listening on"), \
            manage(ctx, "consumers-depot-run_consumers-depot", "run_consumers", "--modules", "depot",
                   ready=f"{DEPOT_DURABLE}: consuming"), \
            manage(ctx, "consumers-depot-run_consumers-ordering", "run_consumers", "--modules", "ordering",
                   ready=f"{REPLY_DURABLE}: consuming"):
        writer.catalog()
        if not wait_for(lambda: _depot_caches_filled(ctx.conninfo), 60, 0.2):
            raise RuntimeError("the depot did not cache the bench catalog within 60 s")
        listener = Listener(ctx, "consumers-depot-listener", "pg", ctx.conninfo, DEPOT_CHANNEL)
        try:
            committed, achieved = paced(RATE, seconds, writer.step)
            wait_for(lambda: _replies_handled(ctx.conninfo) >= len(committed), 30, 0.1)
            time.sleep(0.3)
        finally:
            arrived = listener.stop()
    by_kind = {kind: {key[2:]: at for key, at in arrived.items() if key.startswith(kind + ":")} for kind in "dr"}
    common = (f"{DEPOT_STORES} stores × {DEPOT_PRODUCTS} products, 2 items per list; relay, run_consumers --modules "
              f"depot and --modules ordering as subprocesses; commit seen as a pg_notify from a bench-only trigger "
              f"on the inbox row (same host clock)")
    return [
        *latency_figures("consumer_latency_depot", latencies(committed, by_kind["d"]), len(committed) - WARMUP_MESSAGES,
                         achieved, 20, 100,
                         f"commit of saga instance + CreateShoppingListCommand → the depot's command handler "
                         f"committed (list created, reply in the outbox); {common}"),
        *latency_figures("consumer_latency_saga_reply", latencies(committed, by_kind["r"]),
                         len(committed) - WARMUP_MESSAGES, achieved, 20, 100,
                         f"the same commit → the CreatedShoppingListReply handled by the saga (instance at step 3, "
                         f"ConfirmPayment sent): two hops; {common}"),
    ]


def _replies_handled(conninfo: str) -> int:
    return _execute(conninfo, "SELECT count(*) FROM eventstore_inbox WHERE consumer = %s AND name = %s",
                    [REPLY_DURABLE, "depotapi.CreatedShoppingListReply"])[0]


def run(ctx: core.Context) -> list[core.Figure]:
    return [
        *_with_cleanup(ctx, lambda: toy_part(ctx), ("relay_cpu_per_message", "consumer_cpu_per_message",
                                                    "consumer_latency_p50", "consumer_latency_p99"), _DROP_TRIGGER),
        *_with_cleanup(ctx, lambda: depot_part(ctx),
                       ("consumer_latency_depot_p50", "consumer_latency_depot_p99",
                        "consumer_latency_saga_reply_p50", "consumer_latency_saga_reply_p99"), _DROP_DEPOT_TRIGGER),
    ]
