"""Running busywork: ``run_load`` (clients, progress lines, the grace period for orders still being
followed, the summary) and ``seed_catalog``."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from typing import Callable

from busywork.http import HttpClient
from busywork.kiosk import ADJECTIVES, MIX, SHOPS, Kiosk, Load
from busywork.stats import Summary


async def _client(load: Load, kiosk: Kiosk, mix: dict[str, float], stop_at: float, stop: asyncio.Event) -> None:
    names, weights = list(mix), list(mix.values())
    while not stop.is_set() and await load.pacer.wait(stop_at):
        if stop.is_set():
            break
        behaviour = kiosk.rng.choices(names, weights)[0]
        load.stats.actions[behaviour] += 1
        try:
            await getattr(kiosk, behaviour)()
        except Exception as exc:  # a broken answer must not end the run; it is counted and shown
            load.stats.error(f"busywork {behaviour}: {type(exc).__name__}: {exc}")
            await asyncio.sleep(0.1)


async def _progress(load: Load, started: float, every: float, report: Callable[[str], None]) -> None:
    previous = (0, 0, started)
    while True:
        await asyncio.sleep(every)
        stats, now = load.stats, time.monotonic()
        requests, checkouts, then = previous
        span = max(now - then, 1e-9)
        report(f"[{now - started:6.1f}s] {(stats.requests - requests) / span:7.1f} req/s  "
               f"{(stats.checkouts - checkouts) / span:6.2f} checkouts/s  "
               f"approved {stats.approved} rejected {stats.rejected} following {len(load.polls)}  "
               f"errors {stats.error_count} (5xx {stats.server_errors})")
        previous = (stats.requests, stats.checkouts, now)


async def run_load(base_url: str, token: str, *, clients: int = 10, duration: float = 60.0, rate: float = 0.0,
                   seed: int | None = None, mix: dict[str, float] | None = None, underpay_rate: float = 0.05,
                   reuse_customer_rate: float = 0.8, poll_grace: float = 15.0, request_timeout: float = 10.0,
                   progress: Callable[[str], None] | None = None, progress_every: float = 5.0,
                   handle_signals: bool = False) -> Summary:
    """Run ``clients`` kiosks for ``duration`` seconds against ``base_url``; return the summary.

    Actions are paced to ``rate`` per second in total (0: unpaced). After ``duration`` no new action
    starts; actions under way finish (each request is bounded by ``request_timeout``); orders still
    being followed get at most ``poll_grace`` more seconds, then count as unresolved. With
    ``handle_signals`` SIGINT/SIGTERM end the load phase early and still produce the summary.
    """
    mix = dict(mix or MIX)
    unknown = set(mix) - set(MIX)
    if unknown or not any(weight > 0 for weight in mix.values()):
        raise ValueError(f"mix needs positive weights for some of {', '.join(MIX)}; unknown: {sorted(unknown)}")
    http = HttpClient(base_url, token, timeout=request_timeout, max_connections=max(16, clients * 3))
    load = Load(http, rate=rate, underpay_rate=underpay_rate, reuse_customer_rate=reuse_customer_rate)
    master = random.Random(seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = [signal.SIGINT, signal.SIGTERM] if handle_signals else []
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    started = time.monotonic()
    reporter = asyncio.ensure_future(_progress(load, started, progress_every, progress)) if progress else None
    try:
        workers = [asyncio.ensure_future(_client(load, Kiosk(load, random.Random(master.getrandbits(64))), mix,
                                                 started + duration, stop)) for _ in range(clients)]
        await asyncio.wait(workers)
        elapsed = time.monotonic() - started
        load.poll_deadline = time.monotonic() + poll_grace
        if load.polls:
            if progress:
                progress(f"load phase over after {elapsed:.1f} s; following {len(load.polls)} orders "
                         f"for at most {poll_grace:g} s")
            await asyncio.wait(set(load.polls), timeout=poll_grace + request_timeout)
        leftover = list(load.polls)
        for task in leftover:
            task.cancel()
        await asyncio.gather(*leftover, return_exceptions=True)
        load.stats.unresolved += len(leftover)
    finally:
        if reporter:
            reporter.cancel()
        for sig in signals:
            loop.remove_signal_handler(sig)
        await http.close()
    return Summary.of(load.stats, duration=elapsed, clients=clients, rate=rate)


async def seed_catalog(base_url: str, token: str, *, stores: int = 5, products: int = 10,
                       seed: int | None = None) -> list[str]:
    """Create ``stores`` stores with ``products`` products each; return the store ids."""
    http = HttpClient(base_url, token)
    load = Load(http, rate=0, underpay_rate=0, reuse_customer_rate=0)
    kiosk = Kiosk(load, random.Random(seed))
    try:
        ids = []
        for _ in range(stores):
            response = await kiosk.call("createStore", "POST", "/api/stores",
                                        {"name": f"{kiosk.rng.choice(ADJECTIVES)} {kiosk.rng.choice(SHOPS)}",
                                         "location": f"Level {kiosk.rng.randint(1, 4)}"})
            if response is None:
                raise RuntimeError(f"cannot create a store: {dict(load.stats.errors)}")
            ids.append(response.body["id"])
            for _ in range(products):
                await kiosk.add_product(ids[-1])
        if load.stats.errors:
            raise RuntimeError(f"seeding the catalog failed: {dict(load.stats.errors)}")
        return ids
    finally:
        await http.close()
