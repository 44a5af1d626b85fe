"""Liveness, readiness and Prometheus metrics (api.md §5).

``/readiness`` and ``/metrics`` are public: each process answers them from a result at most
``CACHE_SECONDS`` old, so a flood of unauthenticated hits opens no NATS connection and runs no counting
query beyond one per interval (issue 13).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse

CACHE_SECONDS = 2.0
_clock = time.monotonic


class Cached:
    """The value of ``compute()``, computed again only when older than ``CACHE_SECONDS`` (one thread at a
    time computes; the others wait for it and share its result)."""

    def __init__(self, compute: Callable[[], object]):
        self.compute = compute
        self.lock = threading.Lock()
        self.value: object = None
        self.until = float("-inf")

    def get(self) -> object:
        with self.lock:
            if _clock() >= self.until:
                self.value = self.compute()
                self.until = _clock() + CACHE_SECONDS
            return self.value


def liveness(request):
    return HttpResponse(".", content_type="text/plain")


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def nats_ok() -> bool:
    async def probe() -> bool:
        import nats

        from eventstore.nats import servers

        client = await nats.connect(servers=servers(), connect_timeout=1, max_reconnect_attempts=0,
                                    allow_reconnect=False, dont_randomize=True)
        try:
            await client.jetstream().account_info()
            return True
        finally:
            await client.close()

    try:
        return asyncio.run(asyncio.wait_for(probe(), timeout=2))
    except Exception:
        return False


def _readiness() -> dict[str, str]:
    return {"database": "ok" if database_ok() else "unavailable", "nats": "ok" if nats_ok() else "unavailable"}


def _metrics() -> bytes:
    from prometheus_client import generate_latest

    from eventstore.metrics import collect_registry

    return generate_latest(collect_registry())


_READINESS = Cached(_readiness)
_METRICS = Cached(_metrics)


def forget() -> None:
    """Drop the cached results (tests that change what the probes see)."""
    for cached in (_READINESS, _METRICS):
        with cached.lock:
            cached.until = float("-inf")


def readiness(request):
    status = _READINESS.get()
    ok = all(value == "ok" for value in status.values())
    return JsonResponse(status, status=200 if ok else 503)


def metrics(request):
    from prometheus_client import CONTENT_TYPE_LATEST

    return HttpResponse(_METRICS.get(), content_type=CONTENT_TYPE_LATEST)
