"""Histograms kept in the memory of the long-running processes (relay, consumers), served on ``METRICS_PORT``.

``/metrics`` of the web tier is computed on scrape from the database and JetStream (``eventstore.metrics``);
what only a relay or consumer process sees as it happens (how long a handler took, how long JetStream took
to ack a batch) lives here, in a registry of the process's own, and each process serves it on its own port
(``serve``; ``METRICS_PORT``, 0 = off): Prometheus scrapes every process, as it does every pod (ADR 21).
Observing costs a lock and a few additions per message; nothing is written to the database.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

logger = logging.getLogger("mallbots.metrics")

REGISTRY = CollectorRegistry()

_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HANDLER_SECONDS = Histogram(
    "mallbots_handler_seconds", "Time from taking a message to its verdict, by durable, message name and outcome",
    ["durable", "name", "outcome"], buckets=_SECONDS, registry=REGISTRY)
RELAY_PUBLISH_SECONDS = Histogram(
    "mallbots_relay_publish_seconds", "Time from sending a relay batch to JetStream's last ack",
    buckets=_SECONDS, registry=REGISTRY)
RELAY_PUBLISHED = Counter("mallbots_relay_published", "Messages the relay published (acked by JetStream)",
                          registry=REGISTRY)
RELAY_FAILURES = Counter("mallbots_relay_failures", "Relay batches that stopped at an unacked row",
                         registry=REGISTRY)


def handled(durable: str, name: str, outcome: str, seconds: float) -> None:
    HANDLER_SECONDS.labels(durable, name, outcome).observe(seconds)


def relay_batch(acked: int, seconds: float, failed: bool) -> None:
    if acked:
        RELAY_PUBLISH_SECONDS.observe(seconds)
        RELAY_PUBLISHED.inc(acked)
    if failed:
        RELAY_FAILURES.inc()


def serve(port: int) -> None:
    """Serve this process's registry on ``0.0.0.0:port`` (``/metrics``, any path) from a daemon thread;
    ``port`` 0 does nothing. A port already taken is logged, not fatal: metrics never stop the work."""
    if port <= 0:
        return
    try:
        start_http_server(port, registry=REGISTRY)
    except OSError as exc:
        logger.warning("cannot serve metrics on port %s: %s", port, exc)
        return
    logger.info("metrics on :%s/metrics", port)
