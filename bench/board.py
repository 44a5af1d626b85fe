"""The order board figure of quality.md §1.2: order event → message at a connected socket, 100 sockets open.

The web tier as ``run_all`` starts it (``bench.servers.project_web``, ``WEB_WORKERS`` workers) gets ``SOCKETS``
``/ws/board/`` sockets of a signed-in depot user (``bench.websocket``), spread over its workers by the kernel;
each worker's board feed holds its own core NATS subscription. ``ORDERS`` search rows exist in the bench
database, so each event costs its worker one row read, as in production.

One repetition, twice: order events (``ordersapi.OrderStarted`` envelopes, each with its own ``occurred_at``)
are published with core NATS on ``mallbots.ordering.events.Order`` at ``RATE`` per second for ``ctx.seconds``
× 2; every socket records when the ``update`` with that ``orderId`` and ``updatedAt`` arrives. Latency =
arrival − the moment just before the publish: the NATS hop, the worker's row read, the channel layer, the
socket. The relay's part (commit → NATS) is the relay figure's. The first pass runs alone; the second while
``bench.loadgen`` (its own process, concurrency 16) loads ``GET /api/stores/{id}/products`` (50 products,
``bench.kiosk``) on the same server, which gives the kiosk figure with the board live.

The sockets and the publisher share the harness's event loop, so their own CPU time counts in the latency
(an upper bound, on a 2-core box shared with the server). An update that never arrives (10 s after the last
publish) fails the figure.

Figures: ``board_update_p99`` (≤ 200 ms), ``board_update_p50`` (info), ``board_update_p99_kiosk_load`` (info),
``kiosk_products_board_live`` (req/s against ``drf_hello_gunicorn``, info). Port: ``port_base + 11``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from decimal import Decimal

from bench import core, kiosk, loadgen, servers, websocket
from devtools.stats import percentile

NAME = "board"
PROVIDES: tuple[str, ...] = ()
SOCKETS = 100
BATCH = 10
RATE = 20
ORDERS = 20
DRAIN_SECONDS = 10.0
KIOSK_WARMUP = 1.5
PORT_OFFSET = 11


def _orders() -> list[str]:
    """``ORDERS`` approved orders in the search read model of the bench database."""
    from eventstore import codec
    from search.models import Order

    now = codec.utcnow()
    ids = [str(uuid.uuid4()) for _ in range(ORDERS)]
    Order.objects.bulk_create([
        Order(order_id=order_id, customer_id=str(uuid.uuid4()), customer_name=f"Bench customer {n}",
              items=[{"product_id": "p", "store_id": "s", "product_name": "P", "store_name": "S",
                      "price": Decimal("9.99"), "quantity": 2}],
              product_ids=["p"], store_ids=["s"], total=Decimal("19.98"), status="approved", created_at=now,
              updated_at=now, version=2, items_version=1)
        for n, order_id in enumerate(ids)])
    return ids


class Pass:
    """One publishing pass: what was sent when, what arrived when."""

    def __init__(self) -> None:
        self.sent: dict[tuple[str, str], float] = {}
        self.latencies: list[float] = []
        self.expected = 0

    def arrived(self, raw: str | bytes, at: float) -> None:
        message = json.loads(raw)
        if message.get("type") != "update":
            return
        started = self.sent.get((message["order"]["orderId"], message["order"]["updatedAt"]))
        if started is not None:
            self.latencies.append(at - started)

    @property
    def lost(self) -> int:
        return self.expected - len(self.latencies)


async def _read(socket, passes: list[Pass]) -> None:
    async for raw in socket:
        at = time.perf_counter()
        if passes:
            passes[-1].arrived(raw, at)


async def _publish(nats_url: str, order_ids: list[str], seconds: float, current: Pass) -> None:
    import nats

    from eventstore import codec
    from eventstore.envelope import Envelope
    from ordering.contracts import ORDER_EVENTS

    nc = await nats.connect(servers=[u.strip() for u in nats_url.split(",")], connect_timeout=5)
    try:
        count, first = int(RATE * seconds), dt.datetime.now(dt.timezone.utc)
        started = time.perf_counter()
        for n in range(count):
            await asyncio.sleep(max(0.0, started + n / RATE - time.perf_counter()))
            order_id = order_ids[n % len(order_ids)]
            occurred_at = codec.format_timestamp(first + dt.timedelta(microseconds=n))
            data = Envelope(id=str(uuid.uuid4()), name="ordersapi.OrderStarted", subject=ORDER_EVENTS,
                            payload={"id": order_id, "customer_id": "", "payment_id": "", "shopping_id": "",
                                     "bot_id": "bench-bot"},
                            metadata={"aggregate_type": "ordering.Order", "aggregate_id": order_id,
                                      "aggregate_version": 3, "occurred_at": occurred_at},
                            sent_at=occurred_at).to_json()
            current.sent[(order_id, occurred_at)] = time.perf_counter()
            await nc.publish(ORDER_EVENTS, data)
        await nc.flush()
        current.expected = count * SOCKETS
    finally:
        await nc.close()


async def _drain(current: Pass) -> None:
    deadline = time.perf_counter() + DRAIN_SECONDS
    while current.lost > 0 and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)


async def _measure(ctx: core.Context, base: str, cookie: str, order_ids: list[str], kiosk_url: str,
                   kiosk_token: str) -> tuple[list[Pass], list[Pass], list[dict]]:
    """``ctx.reps`` × (a pass alone, a pass under kiosk load) over the same ``SOCKETS`` open sockets."""
    url, connects, sockets = base.replace("http://", "ws://") + "/ws/board/", [], []
    passes: list[Pass] = []
    readers: list[asyncio.Task] = []
    alone, loaded, kiosk_results = [], [], []
    seconds = ctx.seconds * 2
    try:
        while len(sockets) < SOCKETS:
            sockets += await asyncio.gather(*(websocket.open_board_socket(url, base, cookie, connects)
                                              for _ in range(BATCH)))
        readers = [asyncio.create_task(_read(socket, passes)) for socket in sockets]
        for _ in range(ctx.reps):
            passes.append(Pass())
            await _publish(ctx.nats_url, order_ids, seconds, passes[-1])
            await _drain(passes[-1])
            alone.append(passes[-1])

            passes.append(Pass())
            load = asyncio.create_task(asyncio.to_thread(
                loadgen.run, kiosk_url, concurrency=kiosk.CONCURRENCY, duration=seconds, warmup=KIOSK_WARMUP,
                headers=[f"Authorization: Bearer {kiosk_token}"]))
            await asyncio.sleep(KIOSK_WARMUP)
            await _publish(ctx.nats_url, order_ids, seconds, passes[-1])
            await _drain(passes[-1])
            kiosk_results.append(await load)
            loaded.append(passes[-1])
        return alone, loaded, kiosk_results
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)


def _ms(latencies: list[float], p: float) -> float:
    return percentile(latencies, p) * 1000


def run(ctx: core.Context) -> list[core.Figure]:
    gunicorn = ctx.baseline("drf_hello_gunicorn")
    names = [("board_update_p99", "ms"), ("board_update_p50", "ms"), ("board_update_p99_kiosk_load", "ms"),
             ("kiosk_products_board_live", "req/s")]
    try:
        cookie = websocket.depot_session()
        order_ids = _orders()
        store_id, kiosk_token = kiosk.catalog()
        with servers.project_web(ctx, ctx.port(PORT_OFFSET)) as base:
            alone, loaded, kiosk_results = asyncio.run(_measure(
                ctx, base, cookie, order_ids, f"{base}/api/stores/{store_id}/products", kiosk_token))
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return [core.skipped(name, reason, unit=unit, baseline=gunicorn if unit == "req/s" else None)
                for name, unit in names]
    lost = sum(p.lost for p in alone + loaded)
    every = [latency for p in alone for latency in p.latencies]
    workers = ctx.settings.WEB_WORKERS
    setup = (f"{SOCKETS} sockets on {workers} web workers, {RATE} order events/s published with core NATS for "
             f"{ctx.seconds * 2:.0f} s per repetition, {len(every)} updates received")
    kiosk_rates = [r["rps"] for r in kiosk_results]
    kiosk_bad = sum(r["errors"] for r in kiosk_results) + sum(
        count for r in kiosk_results for status, count in (r.get("statuses") or {}).items() if str(status) != "200")
    figures = [
        core.measured("board_update_p99", [_ms(p.latencies, 99) for p in alone if p.latencies], "ms", at_most=200,
                      note=f"publish → update at the socket; {setup}; {lost} updates lost"),
        core.measured("board_update_p50", [_ms(p.latencies, 50) for p in alone if p.latencies], "ms",
                      note=f"same passes; all samples pooled: p50 {_ms(every, 50):.1f} ms, p99 {_ms(every, 99):.1f} ms, "
                           f"max {max(every) * 1000:.1f} ms" if every else "no samples"),
        core.measured("board_update_p99_kiosk_load", [_ms(p.latencies, 99) for p in loaded if p.latencies], "ms",
                      note=f"the same while loadgen (concurrency {kiosk.CONCURRENCY}, as fast as the server "
                           f"answers) loads the kiosk products endpoint on the same server: HTTP threads and the "
                           f"sockets' event loop share each worker's GIL"),
        core.measured("kiosk_products_board_live", kiosk_rates, "req/s", baseline=gunicorn, target="informational",
                      note=f"GET /api/stores/{{id}}/products ({kiosk.PRODUCTS} products) while {SOCKETS} board "
                           f"sockets get {RATE} updates/s each; {kiosk_bad} non-200 answers or errors"),
    ]
    if lost:
        figures[0].passed = False
    return figures
