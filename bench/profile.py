"""`python -m bench.profile`: where the CPU of an order goes, per process role (py-spy on a live system).

Starts the system as ``bench.e2e`` does (``run_all`` on a scratch database and nats-server), warms it up,
then drives buy-only checkouts at ``--rate`` per second for ``--seconds`` while ``py-spy record`` samples
every process of the chosen roles (``--roles``, default: all of run_all's children). For each role it
writes the collapsed stacks to ``VAR_DIR/profiles/<role>.txt`` (flame-graph input) and prints the
functions with the most samples: inclusive (the function or anything it calls was running) and self
(the function itself was on top). Only samples of a thread holding the GIL count (``--gil``): Python
running, not waiting for the database, the broker or a lock.

    VAR_DIR=$PWD/var/bench EMBEDDED_NATS_PORT=14223 .venv/bin/python -m bench.profile --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import core, procstats


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the sampled load")
    parser.add_argument("--rate", type=float, default=10.0, help="checkouts per second")
    parser.add_argument("--roles", default="", help="comma-separated roles (web, relay, consumers-ordering, …)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per role")
    parser.add_argument("--sample-rate", type=int, default=100, help="py-spy samples per second")
    return parser.parse_args(argv)


def summarise(collapsed: Path, top: int) -> str:
    """The ``top`` functions by inclusive and by self samples of a py-spy ``raw`` (collapsed) file."""
    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if not frame.startswith("process ")
                  and not frame.startswith("thread ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return "  (no samples)"
    lines = [f"  {total} samples"]
    for title, counter in (("inclusive", inclusive), ("self", own)):
        lines.append(f"  -- {title}")
        lines += [f"  {100 * count / total:5.1f} %  {frame}" for frame, count in counter.most_common(top)]
    return "\n".join(lines)


def messages_per_order(conninfo: str) -> str:
    """Events, outbox rows and inbox rows (by consumer and name) per order of the scratch database."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        orders = conn.execute("SELECT count(*) FROM ordering_order").fetchone()[0] or 1
        events = conn.execute("SELECT count(*) FROM eventstore_event").fetchone()[0]
        outbox = conn.execute("SELECT name, count(*) FROM eventstore_outbox GROUP BY name ORDER BY 2 DESC").fetchall()
        inbox = conn.execute("SELECT consumer, name, count(*) FROM eventstore_inbox GROUP BY 1, 2 ORDER BY 3 DESC"
                             ).fetchall()
    lines = [f"{orders} orders: {events / orders:.1f} events, {sum(c for _, c in outbox) / orders:.1f} outbox rows, "
             f"{sum(c for *_, c in inbox) / orders:.1f} inbox rows per order",
             "  outbox: " + ", ".join(f"{name} {count / orders:.2f}" for name, count in outbox),
             "  inbox: " + ", ".join(f"{consumer}/{name} {count / orders:.2f}" for consumer, name, count in inbox)]
    return "\n".join(lines)


def record(pids: list[int], seconds: float, rate: int, out_dir: Path, role: str) -> list[subprocess.Popen]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    started = []
    for pid in pids:
        out = out_dir / f"{role}-{pid}.txt"
        started.append(subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                                         "--rate", str(rate), "--format", "raw", "--nonblocking", "--gil", "--output", str(out)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return started


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    from bench.__main__ import log, setup_django
    from bench import e2e

    setup_django()
    from django.conf import settings

    ctx = core.Context(reps=1, quick=True, conninfo="", database_url=os.environ["DATABASE_URL"],
                       nats_url=settings.NATS_URL, var_dir=settings.VAR_DIR,
                       port_base=int(os.environ.get("BENCH_PORT_BASE", "18080")), settings=settings, log=log)
    out_dir = settings.VAR_DIR / "profiles"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    wanted = {r.strip() for r in args.roles.split(",") if r.strip()}
    with e2e.running_system(ctx) as system:
        e2e.warm_up(ctx, system)
        roles = procstats.roles_of_run_all(system.pid)
        by_role: dict[str, list[int]] = collections.defaultdict(list)
        for pid, role in roles.items():
            if role != "supervisor" and (not wanted or role in wanted):
                by_role[role].append(pid)
        spies = [p for role, pids in by_role.items() for p in record(pids, args.seconds, args.sample_rate, out_dir, role)]
        load: dict = {}
        thread = threading.Thread(target=lambda: load.update(summary=e2e._load(
            system, clients=30, duration=args.seconds, rate=args.rate, mix=e2e.BUY_ONLY, underpay_rate=0,
            reuse_customer_rate=0.9, seed=10, poll_grace=15)))
        with procstats.Watch(system.groups) as watch:
            thread.start()
            for spy in spies:
                spy.wait()
            thread.join()
        summary = load["summary"]
        print(messages_per_order(system.conninfo))
        print(f"{summary.checkouts} checkouts, {summary.approved} approved, p50 {summary.latency(50)} ms, "
              f"p99 {summary.latency(99)} ms; CPU s by role: "
              + ", ".join(f"{r} {c:.1f}" for r, c in watch.cpu_by_role().items()))
    for role in sorted(by_role):
        merged = out_dir / f"{role}.txt"
        with merged.open("w") as handle:
            for part in sorted(out_dir.glob(f"{role}-*.txt")):
                handle.write(part.read_text(errors="replace"))
                part.unlink()
        print(f"\n== {role} ({len(by_role[role])} processes) → {merged}")
        print(summarise(merged, args.top))
    time.sleep(0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
