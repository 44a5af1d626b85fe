"""HTTP load generator: N keep-alive connections (``devtools.http``), run as its own process.

``python -m bench.loadgen URL [--concurrency 16] [--duration 5] [--warmup 1] [--header 'K: V']...``
prints one JSON object: requests, errors, statuses, rps, p50_ms, p99_ms. A response with
``Connection: close`` (gunicorn's sync workers) makes that client reconnect; connect time then
counts in the latency. Only responses completed between warm-up end and duration end count;
p50/p99 interpolate linearly between closest ranks (``devtools.stats.percentile``).
``run(...)`` starts it as a subprocess from Python (so the server's CPU is not shared in-process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from devtools.http import TRANSPORT_ERRORS, Connection, Origin, encode_request
from devtools.stats import percentile


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors = 0


async def _client(host: str, port: int, request: bytes, record_from: float, stop_at: float, stats: Stats) -> None:
    connection = None
    while True:
        started = time.perf_counter()
        if started >= stop_at:
            break
        try:
            if connection is None:
                connection = await Connection.open(host, port)
            answer = await connection.exchange(request)
        except TRANSPORT_ERRORS:
            if started >= record_from:
                stats.errors += 1
            if connection is not None:
                connection.close()
            connection = None
            await asyncio.sleep(0.01)
            continue
        finished = time.perf_counter()
        if record_from <= started and finished <= stop_at:
            stats.latencies.append(finished - started)
            stats.statuses[answer.status] += 1
            if answer.status >= 400:
                stats.errors += 1
        if not answer.keep_alive:
            connection.close()
            connection = None
    if connection is not None:
        connection.close()


def _ms(latencies: list[float], p: float) -> float | None:
    return round(percentile(latencies, p) * 1000, 2) if latencies else None


async def generate(url: str, concurrency: int, duration: float, warmup: float, headers: list[str],
                   method: str = "GET") -> dict:
    origin = Origin.of(url)
    request = encode_request(method, origin.target, origin.netloc, headers)
    stats = Stats()
    now = time.perf_counter()
    record_from, stop_at = now + warmup, now + warmup + duration
    await asyncio.gather(*(_client(origin.host, origin.port, request, record_from, stop_at, stats)
                           for _ in range(concurrency)))
    return {"requests": len(stats.latencies), "errors": stats.errors, "statuses": dict(stats.statuses),
            "rps": len(stats.latencies) / duration, "p50_ms": _ms(stats.latencies, 50),
            "p99_ms": _ms(stats.latencies, 99), "duration": duration}


def run(url: str, *, concurrency: int = 16, duration: float = 5, warmup: float = 1,
        headers: list[str] | None = None) -> dict:
    """Run the generator in a separate Python process and return its result."""
    argv = [sys.executable, "-m", "bench.loadgen", url, "--concurrency", str(concurrency),
            "--duration", str(duration), "--warmup", str(warmup)]
    for header in headers or []:
        argv += ["--header", header]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=duration + warmup + 60, check=True,
                               cwd=Path(__file__).resolve().parent.parent)
    return json.loads(completed.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    result = asyncio.run(generate(args.url, args.concurrency, args.duration, args.warmup, args.header))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
