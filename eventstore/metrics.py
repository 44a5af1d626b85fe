"""Gauges computed on scrape from the kernel tables (architecture.md §18)."""

from __future__ import annotations

from django.db import connection
from prometheus_client import CollectorRegistry, Gauge


def collect_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    unpublished = Gauge("mallbots_outbox_unpublished", "Outbox rows not yet published", registry=registry)
    oldest = Gauge("mallbots_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", registry=registry)
    dead = Gauge("mallbots_dead_letters", "Dead letters not replayed or discarded", ["consumer"], registry=registry)
    sagas = Gauge("mallbots_sagas", "Saga instances by status", ["status"], registry=registry)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(extract(epoch from now() - min(sent_at)), 0)"
            " FROM eventstore_outbox WHERE published_at IS NULL"
        )
        count, age = cursor.fetchone()
        unpublished.set(count)
        oldest.set(float(age))
        cursor.execute(
            "SELECT consumer, count(*) FROM eventstore_deadletter"
            " WHERE replayed_at IS NULL AND discarded_at IS NULL GROUP BY consumer"
        )
        for consumer, n in cursor.fetchall():
            dead.labels(consumer=consumer).set(n)
        cursor.execute("SELECT status, count(*) FROM eventstore_sagainstance GROUP BY status")
        for status, n in cursor.fetchall():
            sagas.labels(status=status).set(n)
    return registry
