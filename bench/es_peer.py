"""Baseline `eventsourcing` (quality.md §1.1): the Python peer library on the same PostgreSQL, in its best
documented set-up.

One event per new aggregate (create + save), and one event per existing aggregate (get + command +
save), each save its own transaction. Measured by ``bench.kernel``. The existing-aggregate path is
measured without and with the library's own aggregate cache (``AGGREGATE_CACHE_MAXSIZE``,
fast-forwarding), compared with ours cache-off against cache-off and cache-on against cache-on.

Set-up (``PEER_ENV``), as the library's own speed runs configure it: ``POSTGRES_ENABLE_DB_FUNCTIONS=y``
makes a save one round trip (``SELECT * FROM es_insert_events_uuid(...)``, a PL/pgSQL function the
library creates; without it a save is a pipelined ``BEGIN``/``LOCK TABLE``/``NOTIFY``/``INSERT``/
``COMMIT``), and its pool settings ``POSTGRES_POOL_SIZE=1``, ``POSTGRES_MAX_OVERFLOW=0``,
``POSTGRES_MAX_WAITING=0`` (one thread here: one pooled connection, kept open; ``POSTGRES_PRE_PING``
stays off, no extra round trip before each use).
"""

from __future__ import annotations

from importlib.metadata import version

from bench import core


def _classes():
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class PeerCounter(Aggregate):
        @event("Opened")
        def __init__(self, title: str, limit: str):
            self.title = title
            self.limit = limit
            self.total = 0
            self.history: list[int] = []

        @event("Incremented")
        def increment(self, by: int) -> None:
            self.total += by
            self.history.append(by)

    class BenchPeer(Application):
        name = "BenchPeer"

    return BenchPeer, PeerCounter


PEER_ENV = {
    "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
    "POSTGRES_POOL_SIZE": "1",
    "POSTGRES_MAX_OVERFLOW": "0",
    "POSTGRES_MAX_WAITING": "0",
    "POSTGRES_PRE_PING": "n",
}


class Peer:
    """The library's application with a counter aggregate; raises on construction when unavailable."""

    def __init__(self, settings_dict: dict):
        app_cls, self.counter_cls = _classes()
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": settings_dict["NAME"],
            "POSTGRES_HOST": settings_dict.get("HOST") or "localhost",
            "POSTGRES_PORT": str(settings_dict.get("PORT") or 5432),
            "POSTGRES_USER": settings_dict.get("USER") or "postgres",
            "POSTGRES_PASSWORD": settings_dict.get("PASSWORD") or "",
            **PEER_ENV,
        }
        self.app = app_cls(env=env)
        self.cached_app = app_cls(env={**env, "AGGREGATE_CACHE_MAXSIZE": "2000"})
        self.note = (f"eventsourcing {version('eventsourcing')} on the same PostgreSQL, "
                     + ", ".join(f"{k}={v}" for k, v in PEER_ENV.items()))
        self.open(20)

    def open(self, count: int) -> list:
        ids = []
        for _ in range(count):
            counter = self.counter_cls(title="bench", limit="12.50")
            self.app.save(counter)
            ids.append(counter.id)
        return ids

    def rep_new(self, seconds: float) -> float:
        return core.run_for(seconds, lambda i: self.open(1))

    def rep_existing(self, seconds: float, ids: list, *, cached: bool = False) -> float:
        app = self.cached_app if cached else self.app

        def increment(i: int) -> None:
            counter = app.repository.get(ids[i % len(ids)])
            counter.increment(1)
            app.save(counter)

        return core.run_for(seconds, increment)

    def close(self) -> None:
        self.app.close()
        self.cached_app.close()
