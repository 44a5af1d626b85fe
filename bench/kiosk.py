"""Kiosk products figure of quality.md §1.2: ``GET /api/stores/{id}/products`` with 50 products.

A store with 50 products is created through ``stores.services`` in the bench database, and a kiosk
token through ``access.tokens.issue_token``. The endpoint is served by the project's web tier
as ``run_all`` starts it (``bench.servers.project_web``: ``WEB_WORKERS`` uvicorn workers under gunicorn on
one socket, each with ``WEB_THREADS`` threads for HTTP; the same set-up as ``drf_hello_project``) and loaded by ``bench.loadgen`` (concurrency 16,
keep-alive, ``Authorization: Bearer <kiosk token>``) from its own process. Every answer must be 200;
the first one is checked to list the 50 products.

Figures: ``kiosk_products`` against ``drf_hello_gunicorn`` (quality target ≥ 0.5×) and
``kiosk_products_vs_project`` against ``drf_hello_project`` (the bare DRF view under the same server;
informational). Port: ``port_base + 3``.
"""

from __future__ import annotations

import json
import urllib.request
from decimal import Decimal

from bench import core, loadgen, servers

NAME = "kiosk"
PROVIDES: tuple[str, ...] = ()
PRODUCTS = 50
CONCURRENCY = 16
PORT_OFFSET = 3


def catalog() -> tuple[str, str]:
    """(store id, kiosk token) with ``PRODUCTS`` products in the store."""
    from access.tokens import issue_token
    from stores import services

    store_id = services.create_store(name="Bench Kiosk Store", location="Level 1")
    for n in range(PRODUCTS):
        services.add_product(store_id=store_id, name=f"Product {n:02d}", description=f"Bench product number {n}",
                             sku=f"BENCH-{n:04d}", price=Decimal("9.99") + n)
    _, token = issue_token("kiosk", name="bench kiosk")
    return store_id, token


def _check(url: str, token: str) -> None:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
    if response.status != 200 or len(body.get("products", [])) != PRODUCTS:
        raise RuntimeError(f"unexpected answer {response.status}: {len(body.get('products', []))} products")


def run(ctx: core.Context) -> list[core.Figure]:
    gunicorn = ctx.baseline("drf_hello_gunicorn")
    project = ctx.baseline("drf_hello_project")
    duration, warmup = ctx.scale(4, 2), 1.5
    results: list[dict] = []
    try:
        store_id, token = catalog()
        path = f"/api/stores/{store_id}/products"
        with servers.project_web(ctx, ctx.port(PORT_OFFSET)) as base:
            _check(base + path, token)
            for _ in range(ctx.reps):
                results.append(loadgen.run(base + path, concurrency=CONCURRENCY, duration=duration, warmup=warmup,
                                           headers=[f"Authorization: Bearer {token}"]))
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return [core.skipped("kiosk_products", reason, unit="req/s", baseline=gunicorn),
                core.skipped("kiosk_products_vs_project", reason, unit="req/s", baseline=project)]
    rates = [r["rps"] for r in results]
    errors = sum(r["errors"] for r in results)
    statuses: dict[str, int] = {}
    for r in results:
        for status, count in (r.get("statuses") or {}).items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    p50 = core.median(r["p50_ms"] for r in results if r["p50_ms"] is not None) if results else None
    p99 = core.median(r["p99_ms"] for r in results if r["p99_ms"] is not None) if results else None
    bad = errors + sum(count for status, count in statuses.items() if status != "200")
    detail = (f"{ctx.settings.WEB_WORKERS} uvicorn workers × {ctx.settings.WEB_THREADS} HTTP threads "
              f"(run_all web tier), {PRODUCTS} products, kiosk token, "
              f"concurrency {CONCURRENCY}; p50 {p50} ms, p99 {p99} ms; statuses {statuses}, {errors} errors")
    figures = [
        core.measured("kiosk_products", rates, "req/s", baseline=gunicorn, at_least=0.5, note=detail),
        core.measured("kiosk_products_vs_project", rates, "req/s", baseline=project, target="informational",
                      note="same samples against the bare DRF view under the same web tier"),
    ]
    if bad:
        figures[0].passed = False
        figures[0].note += f"; {bad} non-200 answers or errors"
    return figures
