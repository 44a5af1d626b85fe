"""Liveness, readiness and Prometheus metrics (api.md §5)."""

from __future__ import annotations

import asyncio

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse


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


def readiness(request):
    status = {"database": "ok" if database_ok() else "unavailable", "nats": "ok" if nats_ok() else "unavailable"}
    ok = all(value == "ok" for value in status.values())
    return JsonResponse(status, status=200 if ok else 503)


def metrics(request):
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from eventstore.metrics import collect_registry

    return HttpResponse(generate_latest(collect_registry()), content_type=CONTENT_TYPE_LATEST)
