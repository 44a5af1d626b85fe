"""Relay figures of quality.md §1.2: outbox → JetStream throughput and commit → ack latency at 200 msg/s.

``manage.py run_relay`` runs as a subprocess on the bench database and the run's NATS (project
settings: ``RELAY_BATCH_SIZE`` rows per window of async publishes). The project's stream
(``settings.NATS_STREAM``) is deleted before and after the module, so every run starts from an empty
stream and leaves none behind. Outbox rows left unpublished by earlier modules (the kernel's toy
rows) are marked published first so that the relay only sees this module's rows, and before every measurement
the outbox is vacuumed and a checkpoint taken (``settle``), so that no figure carries the dead rows and unwritten
pages of the modules or repetitions before it (what autovacuum and the checkpointer clear in a running system at
moments of their own). Rows go to the
subject ``mallbots.bench.relay`` (inside the stream, outside every durable's filter).

1. Throughput: with the relay running and idle (LISTENing), ``N`` outbox rows (20,000; quick 10,000)
   are committed in one transaction — for the relay the same as a backlog found at start, without
   counting Django's start-up. Rate = N / (max(published_at) − commit time), both from PostgreSQL's
   clock; ``published_at`` is set by the relay's mark after the acks. Baseline:
   ``nats_publish_window256`` (raw ``publish_async`` with 256 in flight); this relay runs with
   ``RELAY_BATCH_SIZE=256``, the same in-flight window (quality.md §1.2).
2. Latency (a relay with the project's settings): one writer commits one ``outbox.publish`` per transaction,
   paced at 200/s for 15 s (quick 5 s), and records the wall clock right after each commit returns. A
   separate process holds a JetStream consumer on the subject (an ordered push consumer, deliver-new, no
   acks) and records each arrival. JetStream delivers a message to a consumer only once the stream stored
   it, which is when it sends the publisher's ack, so p50/p99 of arrival − commit are commit → stored
   and acked (plus one delivery hop). A core NATS subscriber would see the message before the stream
   stored it; that is not this figure.

``listen_main`` is the listening process (JetStream consumer or PostgreSQL LISTEN), also used by
``bench.consumers``. Logs: ``VAR_DIR/bench-logs/relay-*.log``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

from bench import core
from bench.nats_publish import WINDOW
from devtools import processes
from devtools.stats import percentile

NAME = "relay"
PROVIDES: tuple[str, ...] = ()
SUBJECT = "mallbots.bench.relay"
RATE = 200
WARMUP_MESSAGES = 20

_LISTEN_CODE = "import sys; from bench.relay import listen_main; listen_main(sys.argv[1:])"


# ---------------------------------------------------------------- helpers shared with bench.consumers

@contextlib.contextmanager
def manage(ctx: core.Context, name: str, *args: str, ready: str, timeout: float = 90,
           env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """``manage.py <args>`` on the bench database and the run's NATS (plus ``env``), until ``ready`` is logged."""
    env = ctx.env(DJANGO_SETTINGS_MODULE="bench.settings", **(env or {}))
    process = processes.LoggedProcess([sys.executable, str(Path(ctx.settings.BASE_DIR) / "manage.py"), *args],
                                      ctx.log_path(name), env=env, cwd=ctx.settings.BASE_DIR, start_new_session=True)
    try:
        processes.wait_until(lambda: ready in process.log_path.read_text(errors="replace"), timeout,
                             f"{args[0]}: no {ready!r}", watch=[process], interval=0.1)
        yield process
    finally:
        processes.stop(process, timeout=15)


def delete_stream(ctx: core.Context) -> None:
    """Delete the project's stream on the run's NATS (durables go with it); absent is fine."""
    import nats
    from nats.js.errors import NotFoundError

    async def delete() -> None:
        nc = await nats.connect(servers=[u.strip() for u in ctx.nats_url.split(",")], connect_timeout=5)
        try:
            with contextlib.suppress(NotFoundError):
                await nc.jetstream().delete_stream(ctx.settings.NATS_STREAM)
        finally:
            await nc.close()

    asyncio.run(delete())


def publish_leftovers(conninfo: str) -> int:
    """Mark every unpublished outbox row as published (rows of other modules; this module's relay skips them),
    then ``settle``."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        marked = conn.execute("UPDATE eventstore_outbox SET published_at = now() WHERE published_at IS NULL").rowcount
    settle(conninfo)
    return marked


def settle(conninfo: str) -> None:
    """``VACUUM ANALYZE`` the outbox, then ``CHECKPOINT``: a measurement starts without the dead rows and the
    unwritten pages that the modules and repetitions before it left (what autovacuum and the checkpointer
    clear in a running system, at moments of their own choosing)."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE eventstore_outbox")
        conn.execute("CHECKPOINT")


def unpublished(conninfo: str) -> int:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM eventstore_outbox WHERE published_at IS NULL").fetchone()[0]


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def paced(rate: float, seconds: float, operation: Callable[[int], tuple[str, float]]) -> tuple[dict[str, float], float]:
    """Call ``operation(i)`` at ``rate`` per second for ``seconds`` from one thread; ({key: commit time}, achieved/s).

    ``operation`` returns the message's key and the wall clock right after its commit returned.
    """
    count = int(rate * seconds)
    committed: dict[str, float] = {}
    started = time.perf_counter()
    for i in range(count):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        key, at = operation(i)
        committed[key] = at
    return committed, core.rate(count, time.perf_counter() - started)


class Listener:
    """A separate process that timestamps arrivals (no GIL shared with the writer); ``stop()`` → {key: time}."""

    def __init__(self, ctx: core.Context, name: str, mode: str, target: str, channel: str) -> None:
        self.out = ctx.log_path(name).with_suffix(".json")
        self.out.unlink(missing_ok=True)
        self.process = subprocess.Popen([sys.executable, "-c", _LISTEN_CODE, mode, target, channel, str(self.out)],
                                        cwd=ctx.settings.BASE_DIR, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                        text=True, start_new_session=True)
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            processes.stop(self.process, timeout=15)
            raise RuntimeError(f"listener did not start ({mode} {channel})")

    def stop(self) -> dict[str, float]:
        processes.stop(self.process, timeout=15)
        try:
            return json.loads(self.out.read_text())
        except (OSError, ValueError):
            return {}
        finally:
            self.out.unlink(missing_ok=True)

    def close(self) -> None:
        if self.process.poll() is None:
            processes.stop(self.process, timeout=15)


def latencies(committed: dict[str, float], arrived: dict[str, float], skip: int = WARMUP_MESSAGES) -> list[float]:
    """Milliseconds arrival − commit for the keys seen on both sides, in commit order, first ``skip`` left out."""
    keys = sorted(committed, key=committed.get)[skip:]
    return [(arrived[k] - committed[k]) * 1000 for k in keys if k in arrived]


def latency_figures(prefix: str, values: list[float], expected: int, achieved: float, p50_max: float,
                    p99_max: float, method: str) -> list[core.Figure]:
    if not values:
        return [core.skipped(f"{prefix}_p50", "no message arrived", unit="ms"),
                core.skipped(f"{prefix}_p99", "no message arrived", unit="ms")]
    missing = expected - len(values)
    tenth = max(1, len(values) // 10)
    trend = (f"p50 of the first / last tenth {percentile(values[:tenth], 50):.1f} / "
             f"{percentile(values[-tenth:], 50):.1f} ms")
    detail = (f"{len(values)} messages at {achieved:.0f}/s paced ({RATE}/s asked), max "
              f"{max(values):.1f} ms, {trend}" + (f", {missing} never arrived" if missing else "") + f"; {method}")
    figures = [core.measured(f"{prefix}_p50", [percentile(values, 50)], "ms", at_most=p50_max, note=detail),
               core.measured(f"{prefix}_p99", [percentile(values, 99)], "ms", at_most=p99_max)]
    if missing or achieved < 0.9 * RATE:
        for figure in figures:
            figure.passed = False
            figure.note = "; ".join(filter(None, [figure.note, f"{missing} lost" if missing else "",
                                                  f"only {achieved:.0f} msg/s written" if achieved < 0.9 * RATE else ""]))
    return figures


# ---------------------------------------------------------------- the listening process

def listen_main(argv: list[str]) -> None:
    """``js <url> <subject> <out>`` or ``pg <conninfo> <channel> <out>``: record {key: arrival} until SIGTERM."""
    mode, target, channel, out = argv
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    arrivals: list[tuple[float, bytes | str]] = []
    if mode == "js":
        asyncio.run(_listen_jetstream(target, channel, arrivals, stop))
        result = {str(json.loads(data)["payload"]["by"]): at for at, data in arrivals}
    else:
        _listen_pg(target, channel, arrivals, stop)
        result = {payload: at for at, payload in arrivals}
    Path(out).write_text(json.dumps(result))


async def _listen_jetstream(url: str, subject: str, arrivals: list, stop: dict) -> None:
    """An ordered push consumer (ephemeral, deliver-new, no acks) on ``subject``: sees stored messages only."""
    import nats
    from nats.js.api import DeliverPolicy

    nc = await nats.connect(servers=[u.strip() for u in url.split(",")], connect_timeout=5)

    async def received(msg) -> None:
        arrivals.append((time.time(), msg.data))

    await nc.jetstream().subscribe(subject, cb=received, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW)
    await nc.flush()
    print("ready", flush=True)
    while not stop["now"]:
        await asyncio.sleep(0.1)
    await nc.close()


def _listen_pg(conninfo: str, channel: str, arrivals: list, stop: dict) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"LISTEN {channel}")
        print("ready", flush=True)
        while not stop["now"]:
            for note in conn.notifies(timeout=0.2):
                arrivals.append((time.time(), note.payload))


# ---------------------------------------------------------------- the relay figures

def _sample_metadata() -> str:
    """Metadata as ``outbox.publish`` writes it (a real envelope), taken from one committed row."""
    from django.db import transaction

    from eventstore import outbox
    from eventstore.models import OutboxMessage
    from toyapp.contracts import CounterIncremented
    from eventstore import codec

    with transaction.atomic():
        message_id = outbox.publish(CounterIncremented(id="bench-relay", by=0), subject=SUBJECT)
    return codec.dumps(OutboxMessage.objects.get(message_id=message_id).metadata)


def _throughput_rep(ctx: core.Context, rows: int, metadata: str, aggregates: int) -> float:
    """One backlog of ``rows`` events spread over ``aggregates`` counters (row g is an event of counter
    g mod ``aggregates``, in version order): the relay keeps one row per aggregate in a window (ADR 13)."""
    import psycopg

    settle(ctx.conninfo)
    with psycopg.connect(ctx.conninfo) as conn:
        last = conn.execute("SELECT coalesce(max(position), 0) FROM eventstore_outbox").fetchone()[0]
        conn.execute(
            "INSERT INTO eventstore_outbox (message_id, name, subject, payload, metadata, sent_at, attempts,"
            " last_error) SELECT gen_random_uuid(), 'toyapi.CounterIncremented', %s,"
            " jsonb_build_object('id', 'bench-relay', 'by', g), %s::jsonb || jsonb_build_object("
            "'aggregate_type', 'toy.Counter', 'aggregate_id', 'bench-' || (g %% %s),"
            " 'aggregate_version', g / %s + 1), now(), 0, ''"
            " FROM generate_series(0, %s - 1) g ORDER BY g", [SUBJECT, metadata, aggregates, aggregates, rows])
        conn.commit()
        committed_at = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        conn.commit()
        if not wait_for(lambda: unpublished(ctx.conninfo) == 0, 120, interval=0.05):
            raise RuntimeError(f"the relay did not publish {rows} rows within 120 s")
        marked = conn.execute("SELECT max(published_at), count(*) FROM eventstore_outbox WHERE position > %s",
                              [last]).fetchone()
    if marked[1] != rows:
        raise RuntimeError(f"expected {rows} new rows, found {marked[1]}")
    return core.rate(rows, (marked[0] - committed_at).total_seconds())


def _publish_one(i: int) -> tuple[str, float]:
    from django.db import transaction

    from eventstore import outbox
    from toyapp.contracts import CounterIncremented

    with transaction.atomic():
        outbox.publish(CounterIncremented(id="bench-relay-latency", by=i + 1), subject=SUBJECT)
    return str(i + 1), time.time()


def run(ctx: core.Context) -> list[core.Figure]:
    baseline = ctx.baseline("nats_publish_window256")
    rows, seconds = ctx.scale(20_000, 10_000), ctx.scale(15, 5)
    figures: list[core.Figure] = []
    try:
        delete_stream(ctx)
        publish_leftovers(ctx.conninfo)
        metadata = _sample_metadata()
        with manage(ctx, "relay-run_relay-window", "run_relay", ready="listening on",
                    env={"RELAY_BATCH_SIZE": str(WINDOW)}):
            wait_for(lambda: unpublished(ctx.conninfo) == 0, 30)
            samples = [_throughput_rep(ctx, rows, metadata, rows) for _ in range(ctx.reps)]
            figures.append(core.measured(
                "relay_throughput", samples, "rows/s", baseline=baseline, at_least=0.5,
                note=f"{rows:,} rows (one event each of {rows:,} aggregates) committed at once while the relay "
                     f"idles; N / (last published_at − commit); RELAY_BATCH_SIZE={WINDOW}, the baseline's "
                     f"in-flight window (default {ctx.settings.RELAY_BATCH_SIZE})"))
            few = ctx.scale(2_000, 1_000)
            samples = [_throughput_rep(ctx, few, metadata, 10) for _ in range(ctx.reps)]
            figures.append(core.measured(
                "relay_throughput_10_aggregates", samples, "rows/s", baseline=baseline,
                note=f"{few:,} rows, events of only 10 aggregates in turn: a window holds one row per "
                     "aggregate (ADR 13), so at most 10 publishes are in flight; reported, no target"))
        settle(ctx.conninfo)
        with manage(ctx, "relay-run_relay", "run_relay", ready="listening on"):
            listener = Listener(ctx, "relay-listener", "js", ctx.nats_url, SUBJECT)
            try:
                committed, achieved = paced(RATE, seconds, _publish_one)
                wait_for(lambda: unpublished(ctx.conninfo) == 0, 20)
                time.sleep(0.3)
            finally:
                arrived = listener.stop()
        figures += latency_figures(
            "relay_latency", latencies(committed, arrived), len(committed) - WARMUP_MESSAGES, achieved, 5, 25,
            "commit returned (writer's wall clock) → arrival at a JetStream ordered consumer in another process "
            "(same host clock): the stream stored the message and acked the relay before delivering it, so this is "
            "commit → stored and acked plus one delivery")
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        done = {f.name for f in figures}
        figures += [core.skipped(name, reason, unit=unit) for name, unit in
                    (("relay_throughput", "rows/s"), ("relay_throughput_10_aggregates", "rows/s"),
                     ("relay_latency_p50", "ms"), ("relay_latency_p99", "ms"))
                    if name not in done]
    finally:
        with contextlib.suppress(Exception):
            delete_stream(ctx)
    return figures
