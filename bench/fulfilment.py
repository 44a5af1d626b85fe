"""Whole-life figures of quality.md §1.2 (issue 12): orders completed per minute with 10 simulated bots at
zero travel and pick time, and list available → assigned latency.

The system runs as in ``bench.e2e`` (``manage.py run_all`` on a database of its own and a scratch
nats-server), now with ``BOT_SIM_COUNT=10``, ``BOT_SIM_TRAVEL_SECONDS=0``, ``BOT_SIM_PICK_SECONDS=0``,
``BOT_SIM_POLL_SECONDS=0.2`` and no unavailable items. Kiosk load: buy-only checkouts paced at 10/s for
60 s (quick: 20 s), every payment in full; meanwhile a payer in this process pays each ready order's
invoice at the depot (``PUT /api/payments/invoices/{id}/pay``), as depot staff would.

1. ``fulfilment_completed_per_minute``: orders that reached ``completed`` during the last three
   quarters of the load phase, per minute (the first quarter fills the pipeline).
2. ``fulfilment_assign_p50`` / ``_p99``: per list initiated during the load phase, ``ShoppingListAssigned``
   − ``ShoppingListInitiated`` (both ``occurred_at`` from the event store): the time a list waits for a
   bot, dispatch included (0 when an idle bot takes it in the initiating transaction).
Both are reported (no target); bench.e2e's checkout → approved figures stand next to them in the table.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

from bench import core, procstats
from bench.e2e import BUY_ONLY, _load, cpu_figures, running_system, warm_up
from devtools.stats import percentile

NAME = "fulfilment"
PROVIDES: tuple[str, ...] = ()
RATE, BOTS = 10, 10
FIGURES = (("fulfilment_completed_per_minute", "orders/min"), ("fulfilment_assign_p50", "ms"),
           ("fulfilment_assign_p99", "ms"))
BOT_ENV = {"BOT_SIM_COUNT": str(BOTS), "BOT_SIM_TRAVEL_SECONDS": "0", "BOT_SIM_PICK_SECONDS": "0",
           "BOT_SIM_POLL_SECONDS": "0.2", "BOT_SIM_UNAVAILABLE_RATE": "0"}


class Payer(threading.Thread):
    """Pays the invoice of every ready order until stopped (invoices appear shortly after ``ready``)."""

    def __init__(self, conninfo: str, base_url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.conninfo, self.base_url, self.token = conninfo, base_url, token
        self.stopping = threading.Event()
        self.paid = 0

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self.stopping.is_set():
                ready = [row[0] for row in conn.execute(
                    "SELECT o.id FROM ordering_order o JOIN payments_invoice i ON i.id = o.id"
                    " WHERE o.status = 'ready' AND i.status = 'pending'").fetchall()]
                for order_id in ready:
                    self.paid += self._pay(order_id)
                self.stopping.wait(0.2)

    def _pay(self, order_id: str) -> int:
        request = urllib.request.Request(f"{self.base_url}/api/payments/invoices/{order_id}/pay", data=b"{}",
                                         method="PUT", headers={"Authorization": f"Bearer {self.token}",
                                                                "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                json.loads(response.read())
                return 1
        except (urllib.error.URLError, OSError):
            return 0


def _completed_between(conninfo: str, start: float, end: float) -> int:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT count(*) FROM ordering_order WHERE status = 'completed'"
                            " AND updated_at >= to_timestamp(%s) AND updated_at < to_timestamp(%s)",
                            [start, end]).fetchone()[0]


def _assign_waits_ms(conninfo: str, start: float, end: float) -> list[float]:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM a.occurred_at - i.occurred_at) * 1000"
            " FROM eventstore_event i JOIN eventstore_event a ON a.stream_type = i.stream_type"
            " AND a.stream_id = i.stream_id AND a.event_name = 'depot.ShoppingListAssigned'"
            " WHERE i.stream_type = 'depot.ShoppingList' AND i.event_name = 'depot.ShoppingListInitiated'"
            " AND i.occurred_at >= to_timestamp(%s) AND i.occurred_at < to_timestamp(%s)", [start, end]).fetchall()
    return [float(row[0]) for row in rows]


def run(ctx: core.Context) -> list[core.Figure]:
    duration = ctx.scale(60, 20)
    try:
        with running_system(ctx, **BOT_ENV) as system:
            warm_up(ctx, system)
            payer = Payer(system.conninfo, system.base_url, system.token)
            payer.start()
            started = time.time()
            with procstats.Watch(system.groups) as watch:
                summary = _load(system, clients=30, duration=duration, rate=RATE, mix=BUY_ONLY, underpay_rate=0,
                                reuse_customer_rate=0.9, seed=7, poll_grace=15)
                ended = started + duration
                time.sleep(5)
                payer.stopping.set()
                payer.join(15)
            window_start = started + duration / 4
            completed = _completed_between(system.conninfo, window_start, ended)
            completed_all = _completed_between(system.conninfo, started, time.time())
            waits = _assign_waits_ms(system.conninfo, started, ended)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return [core.skipped(name, reason, unit=unit) for name, unit in FIGURES]
    per_minute = completed / ((ended - window_start) / 60)
    offered = (f"{summary.checkouts} checkouts in {duration} s paced at {RATE}/s, {summary.approved} approved, "
               f"{payer.paid} invoices paid; {BOTS} bots, travel/pick 0 s, poll 0.2 s")
    cpu = cpu_figures("fulfilment_cpu_per_order", watch, completed_all, what="completed order")[:1]
    cpu[0].note = "all processes with the bot simulator, per order completed (paid) while watched; " + cpu[0].note
    if not waits:
        return [core.measured(FIGURES[0][0], [per_minute], FIGURES[0][1], target="reported", note=offered),
                *[core.skipped(name, "no list was initiated", unit=unit) for name, unit in FIGURES[1:]], *cpu]
    return [
        core.measured(FIGURES[0][0], [per_minute], FIGURES[0][1], target="reported",
                      note=f"completed during the last 3/4 of the load phase; {offered}"),
        core.measured(FIGURES[1][0], [percentile(waits, 50)], "ms", target="reported",
                      note=f"{len(waits)} lists: ShoppingListAssigned − ShoppingListInitiated (event store clock)"),
        core.measured(FIGURES[2][0], [percentile(waits, 99)], "ms", target="reported"),
        *cpu,
    ]
