"""HTTP load generator: N keep-alive connections on asyncio raw sockets, run as its own process.

``python -m bench.loadgen URL [--concurrency 16] [--duration 5] [--warmup 1] [--header 'K: V']...``
prints one JSON object: requests, errors, statuses, rps, p50_ms, p99_ms. A response with
``Connection: close`` (gunicorn's sync workers) makes that client reconnect; connect time then
counts in the latency. Only responses completed between warm-up end and duration end count.
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
from urllib.parse import urlsplit


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors = 0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, status = lines[0].split(" ", 2)[:2]
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip().lower()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    close = headers.get("connection") == "close" or (version == "HTTP/1.0" and headers.get("connection") != "keep-alive")
    return int(status), close


async def _client(host: str, port: int, request: bytes, record_from: float, stop_at: float, stats: Stats) -> None:
    reader = writer = None
    while True:
        started = time.perf_counter()
        if started >= stop_at:
            break
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            status, close = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            if started >= record_from:
                stats.errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.01)
            continue
        finished = time.perf_counter()
        if record_from <= started and finished <= stop_at:
            stats.latencies.append(finished - started)
            stats.statuses[status] += 1
            if status >= 400:
                stats.errors += 1
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def generate(url: str, concurrency: int, duration: float, warmup: float, headers: list[str],
                   method: str = "GET") -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive", *headers, "", ""]
    request = "\r\n".join(lines).encode()
    stats = Stats()
    now = time.perf_counter()
    record_from, stop_at = now + warmup, now + warmup + duration
    await asyncio.gather(*(_client(host, port, request, record_from, stop_at, stats) for _ in range(concurrency)))
    ordered = sorted(stats.latencies)

    def pct(p: float) -> float | None:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000, 2) if ordered else None

    return {"requests": len(ordered), "errors": stats.errors, "statuses": dict(stats.statuses),
            "rps": len(ordered) / duration, "p50_ms": pct(50), "p99_ms": pct(99), "duration": duration}


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
