"""Baseline `nats_publish` (quality.md §1.1) and the cost of JetStream `sync_interval: always` (§2).

A scratch stream with its own subject (``benchscratch.<tag>.>``), configured like the project's
stream, deleted afterwards. The sync-always figure uses a scratch nats-server (same binary) started
with that setting. ``publish_awaited`` / ``publish_windowed`` are reusable by other modules.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import subprocess
import time
import uuid
from typing import AsyncIterator

import nats
import uvloop

from bench import core, payloads

NAME = "nats_publish"
PROVIDES = ("nats_publish", "nats_publish_window256")
WINDOW = 256
MESSAGE_SIZE = 400
SYNC_SERVER_PORT_OFFSET = 9


async def publish_awaited(js, subject: str, data: bytes, seconds: float) -> float:
    """Publish one message at a time, awaiting each ack, for ``seconds``; return msg/s."""
    started, count = time.perf_counter(), 0
    deadline = started + seconds
    while count == 0 or time.perf_counter() < deadline:
        await js.publish(subject, data)
        count += 1
    return core.rate(count, time.perf_counter() - started)


async def publish_windowed(js, subject: str, data: bytes, seconds: float, batch: int = 1000) -> float:
    """``js.publish_async`` with the context's in-flight limit, in batches until ``seconds``; msg/s.

    Every ack is awaited and checked before the clock stops.
    """
    started, count = time.perf_counter(), 0
    deadline = started + seconds
    while count == 0 or time.perf_counter() < deadline:
        futures = [await js.publish_async(subject, data) for _ in range(batch)]
        await js.publish_async_completed()
        for future in futures:
            future.result()
        count += batch
    return core.rate(count, time.perf_counter() - started)


@contextlib.asynccontextmanager
async def scratch_stream(url: str, window: int = WINDOW) -> AsyncIterator[tuple]:
    """(jetstream context, subject) on a new file stream configured like the project's; deleted after."""
    from eventstore.nats import stream_config

    nc = await nats.connect(servers=[u.strip() for u in url.split(",")], connect_timeout=5)
    tag = uuid.uuid4().hex[:12]
    name = f"BENCH_{tag}"
    js = nc.jetstream(publish_async_max_pending=window)
    try:
        await js.add_stream(dataclasses.replace(stream_config(), name=name, subjects=[f"benchscratch.{tag}.>"],
                                                num_replicas=1))
        try:
            yield js, f"benchscratch.{tag}.msg"
        finally:
            await js.delete_stream(name)
    finally:
        await nc.close()


async def _measure(url: str, reps: int, seconds: float, windowed: bool) -> tuple[list[float], list[float]]:
    data = payloads.encoded(MESSAGE_SIZE)
    awaited_samples, windowed_samples = [], []
    async with scratch_stream(url) as (js, subject):
        await publish_awaited(js, subject, data, 0.2)
        for _ in range(reps):
            awaited_samples.append(await publish_awaited(js, subject, data, seconds))
            if windowed:
                windowed_samples.append(await publish_windowed(js, subject, data, seconds))
    return awaited_samples, windowed_samples


@contextlib.contextmanager
def _sync_always_server(ctx: core.Context):
    from mallbots_site.embedded import nats_argv

    port = ctx.port(SYNC_SERVER_PORT_OFFSET)
    if not core.port_free(port):
        raise RuntimeError(f"port {port} is in use")
    root = ctx.var_dir / "bench-nats-sync"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "nats").mkdir()
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(nats_argv(root, port, sync_always=True), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while core.port_free(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scratch nats-server did not start: {(root / 'server.log').read_text()[-300:]}")
            time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def run(ctx: core.Context) -> list[core.Figure]:
    awaited, windowed = uvloop.run(_measure(ctx.nats_url, ctx.reps, ctx.seconds, True))
    base = core.measured("nats_publish", awaited, "msg/s",
                         note=f"{MESSAGE_SIZE}-byte messages, each ack awaited, scratch file stream")
    figures = [base, core.measured("nats_publish_window256", windowed, "msg/s",
                                   note=f"js.publish_async with {WINDOW} in flight, every ack checked")]
    try:
        with _sync_always_server(ctx) as url:
            synced, _ = uvloop.run(_measure(url, ctx.reps, ctx.seconds, False))
    except Exception as exc:
        return figures + [core.skipped("nats_publish_sync_always", f"{type(exc).__name__}: {exc}", unit="msg/s",
                                       baseline=base)]
    figures.append(core.measured("nats_publish_sync_always", synced, "msg/s", baseline=base, target="informational",
                                 note="scratch nats-server with jetstream sync_interval: always, ack awaited"))
    return figures
