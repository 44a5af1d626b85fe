"""Gauges computed on scrape (architecture.md §18): the kernel's from its tables, and those apps declare in
``AppConfig.ready()``::

    metrics.declare_gauge("mallbots_notifications", "Notifications by status", ["status"], public.counts_by_status)

An app's ``collect()`` returns ``{label values: value}`` (label values as a tuple in ``labels`` order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

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


def collect_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    unpublished = Gauge("mallbots_outbox_unpublished", "Outbox rows not yet published (dead-lettered ones apart)",
                        registry=registry)
    oldest = Gauge("mallbots_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", registry=registry)
    dead_outbox = Gauge("mallbots_outbox_dead_lettered", "Outbox rows the relay can never publish (admin: retry)",
                        registry=registry)
    dead = Gauge("mallbots_dead_letters", "Dead letters not replayed or discarded", ["consumer"], registry=registry)
    sagas = Gauge("mallbots_sagas", "Saga instances by status", ["status"], registry=registry)
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
    for declared in _declared.values():
        gauge = Gauge(declared.name, declared.documentation, list(declared.labels), registry=registry)
        for label_values, value in declared.collect().items():
            gauge.labels(*label_values).set(value)
    return registry
