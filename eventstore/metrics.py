"""Gauges computed on scrape from the kernel tables, JetStream and the apps' declarations (architecture.md §18).

- outbox: ``mallbots_outbox_unpublished``, ``mallbots_outbox_oldest_age_seconds``,
  ``mallbots_outbox_dead_lettered``;
- dead letters not replayed or discarded, by durable: ``mallbots_dead_letters{consumer}``;
- sagas: ``mallbots_sagas{status}`` and, for those not finished, ``mallbots_saga_steps{saga,status,step}``;
- per-durable lag from JetStream: ``mallbots_consumer_pending{durable}`` (not yet delivered),
  ``mallbots_consumer_ack_pending{durable}`` (delivered, not yet acked), ``mallbots_consumer_redelivered``,
  read at most every ``METRICS_NATS_CACHE_SECONDS`` and waiting at most ``METRICS_NATS_TIMEOUT_SECONDS``;
  a scrape that finds another one reading, or JetStream not answering, serves the last values, and
  ``mallbots_consumer_lag_age_seconds`` says how old they are (-1: never read);
- what the apps declare in ``AppConfig.ready()``::

      metrics.declare_gauge("mallbots_orders", "Orders by status", ["status"], metrics.counts_by(Order, "status"))

  (``collect()`` returns ``{label values: value}``, label values as a tuple in ``labels`` order).

The latency histograms of the relay and consumer processes are theirs, served on their own port
(``eventstore.process_metrics``, ADR 21).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping

from django.conf import settings
from django.db import connection
from prometheus_client import CollectorRegistry, Gauge


@dataclass(frozen=True)
class DeclaredGauge:
    name: str
    documentation: str
    labels: tuple[str, ...]
    collect: Callable[[], Mapping[tuple[str, ...], float]]


_declared: dict[str, DeclaredGauge] = {}


def declare_gauge(name: str, documentation: str, labels: list[str] | tuple[str, ...],
                  collect: Callable[[], Mapping[tuple[str, ...], float]]) -> None:
    """Add an app's gauge to every scrape; ``collect()`` runs on each scrape."""
    _declared[name] = DeclaredGauge(name=name, documentation=documentation, labels=tuple(labels), collect=collect)


def counts_by(model, field: str) -> Callable[[], dict[tuple[str, ...], float]]:
    """A ``collect`` for ``declare_gauge``: rows of ``model`` counted by ``field`` (one GROUP BY)."""
    from django.db.models import Count

    def collect() -> dict[tuple[str, ...], float]:
        rows = model.objects.order_by().values_list(field).annotate(n=Count("*")).values_list(field, "n")
        return {(str(value),): float(n) for value, n in rows}

    return collect


def collect_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    unpublished = Gauge("mallbots_outbox_unpublished", "Outbox rows not yet published (dead-lettered ones apart)",
                        registry=registry)
    oldest = Gauge("mallbots_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", registry=registry)
    dead_outbox = Gauge("mallbots_outbox_dead_lettered", "Outbox rows the relay can never publish (admin: retry)",
                        registry=registry)
    dead = Gauge("mallbots_dead_letters", "Dead letters not replayed or discarded", ["consumer"], registry=registry)
    sagas = Gauge("mallbots_sagas", "Saga instances by status", ["status"], registry=registry)
    steps = Gauge("mallbots_saga_steps", "Saga instances not finished (running, compensating, failed) by step",
                  ["saga", "status", "step"], registry=registry)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(extract(epoch from now() - min(sent_at)), 0)"
            " FROM eventstore_outbox WHERE published_at IS NULL AND dead_lettered_at IS NULL"
        )
        count, age = cursor.fetchone()
        unpublished.set(count)
        oldest.set(float(age))
        cursor.execute("SELECT count(*) FROM eventstore_outbox WHERE dead_lettered_at IS NOT NULL")
        dead_outbox.set(cursor.fetchone()[0])
        cursor.execute(
            "SELECT consumer, count(*) FROM eventstore_deadletter"
            " WHERE replayed_at IS NULL AND discarded_at IS NULL GROUP BY consumer"
        )
        for consumer, n in cursor.fetchall():
            dead.labels(consumer=consumer).set(n)
        cursor.execute("SELECT status, count(*) FROM eventstore_sagainstance GROUP BY status")
        for status, n in cursor.fetchall():
            sagas.labels(status=status).set(n)
        cursor.execute("SELECT saga_name, status, step, count(*) FROM eventstore_sagainstance"
                       " WHERE status IN ('running', 'compensating', 'failed') GROUP BY saga_name, status, step")
        for saga, status, step, n in cursor.fetchall():
            steps.labels(saga=saga, status=status, step=str(step)).set(n)
    _add_consumer_lag(registry)
    for declared in _declared.values():
        gauge = Gauge(declared.name, declared.documentation, list(declared.labels), registry=registry)
        for label_values, value in declared.collect().items():
            gauge.labels(*label_values).set(value)
    return registry


# ---------------------------------------------------------------- JetStream lag, cached


@dataclass(frozen=True)
class Lag:
    pending: int
    ack_pending: int
    redelivered: int


class _LagCache:
    """The last per-durable lag read from JetStream; one reader at a time, nobody waits for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[str, Lag] = {}
        self.read_at: float | None = None
        self.tried_at = float("-inf")

    def get(self) -> tuple[dict[str, Lag], float | None]:
        now = time.monotonic()
        if now - self.tried_at >= settings.METRICS_NATS_CACHE_SECONDS and self.lock.acquire(blocking=False):
            try:
                self.tried_at = now
                timeout = settings.METRICS_NATS_TIMEOUT_SECONDS
                self.values = asyncio.run(asyncio.wait_for(_read_lag(timeout), timeout))
                self.read_at = time.monotonic()
            except Exception:  # noqa: BLE001 - a scrape never fails because JetStream does; the age shows it
                pass
            finally:
                self.lock.release()
        return self.values, (None if self.read_at is None else time.monotonic() - self.read_at)

    def clear(self) -> None:
        with self.lock:
            self.values, self.read_at, self.tried_at = {}, None, float("-inf")


lag_cache = _LagCache()


async def _read_lag(timeout: float) -> dict[str, Lag]:
    import nats

    from eventstore import nats as mallbots_nats

    client = await nats.connect(servers=mallbots_nats.servers(), connect_timeout=timeout, allow_reconnect=False,
                                max_reconnect_attempts=0, name="mallbots-metrics")
    try:
        infos = await client.jetstream().consumers_info(settings.NATS_STREAM)
    finally:
        await client.close()
    return {info.name: Lag(info.num_pending or 0, info.num_ack_pending or 0, info.num_redelivered or 0)
            for info in infos}


def _add_consumer_lag(registry: CollectorRegistry) -> None:
    pending = Gauge("mallbots_consumer_pending", "Messages of the durable's subject not yet delivered", ["durable"],
                    registry=registry)
    ack_pending = Gauge("mallbots_consumer_ack_pending", "Messages delivered to the durable and not yet acked",
                        ["durable"], registry=registry)
    redelivered = Gauge("mallbots_consumer_redelivered", "Messages delivered more than once and not yet acked",
                        ["durable"], registry=registry)
    age = Gauge("mallbots_consumer_lag_age_seconds", "Age of the consumer lag figures (-1: never read)",
                registry=registry)
    values, seconds = lag_cache.get()
    for durable, lag in values.items():
        pending.labels(durable).set(lag.pending)
        ack_pending.labels(durable).set(lag.ack_pending)
        redelivered.labels(durable).set(lag.redelivered)
    age.set(-1 if seconds is None else seconds)
