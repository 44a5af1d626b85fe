"""Fault suite (``make faults``): the system on a 3-node JetStream cluster (stream replicas 3), the stream's
leader node killed with SIGKILL while busywork drives the API, brought back later (quality.md §2,
architecture.md §17 without Docker).

The processes are the compose layout's on one host: the web tier as ``run_all`` starts it (gunicorn on a
socket bound once), ``run_relay`` and ``run_consumers --modules <module>`` per module, all with
``NATS_URL`` naming the three nodes. Afterwards, once the backlog drained: ``manage.py audit`` passes (every
checkout one order, outbox published, commands answered, no saga stuck, no dead letter, the money adds up),
the stream holds every outbox message exactly once, and no relay, consumer or web process was restarted.
The figures (load held, pauses around the kill, lost, duplicated) are printed (``-s``) and written to
``cluster-figures.json`` in the test's directory; docs/operations.md quotes a run.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import pytest
from django.core.management import call_command
from django.db import connection

from busywork import issue_busywork_token, run_load, seed_catalog
from devtools.processes import LoggedProcess, stop, wait_ready
from eventstore import messaging
from eventstore.tests import processes
from eventstore.tests.cluster import NatsCluster
from mallbots_site.web import http_server_argv, listening_socket

pytestmark = [pytest.mark.faults, pytest.mark.subprocess, pytest.mark.nats, pytest.mark.django_db(transaction=True)]

MODULES = sorted({durable.module for durable in messaging.durables()} - {"toy"})
# Production backoff for handlers (1+2+5+10 s before the 5th delivery): a handler waiting for another module with
# RetryLater (ordering-depot: "order still pending" while the saga's replies catch up after the failover) must
# not be dead-lettered by the suite's fast retries.
CLUSTER_ENV = {"NATS_STREAM_REPLICAS": "3", "RELAY_PUBLISH_TIMEOUT_SECONDS": "2", "RELAY_MAX_BACKOFF_SECONDS": "1",
               "CONSUMER_ACK_WAIT_SECONDS": "10", "CONSUMER_BACKOFF_SECONDS": "1,2,5,10,30"}


@dataclass
class Figures:
    web_processes: int
    consumers_per_module: int
    relays: int
    clients: int
    seconds: float
    killed: str = ""
    requests_per_second: float = 0.0
    checkouts: int = 0
    checkouts_per_second_before_kill: float = 0.0
    checkouts_per_second_after_kill: float = 0.0
    server_errors: int = 0
    unresolved: int = 0
    killed_at: str = ""
    publish_pause_before_kill_s: float = 0.0
    publish_pause_after_kill_s: float = 0.0
    approval_pause_before_kill_s: float = 0.0
    approval_pause_after_kill_s: float = 0.0
    rows_retried: int = 0
    drained_after_load_s: float = 0.0
    outbox_rows: int = 0
    stream_messages: int = 0
    lost: int = 0
    duplicated: int = 0
    orders_per_checkout: str = ""
    audit: str = ""
    progress: list[str] = field(default_factory=list)


def epochs(sql: str, params=()) -> list[float]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return sorted(float(row[0]) for row in cursor.fetchall() if row[0] is not None)


def longest_pause(times: list[float], start: float, end: float) -> float:
    """The longest time without an event in [start, end]: from ``start`` to the first event, then between events."""
    inside = [t for t in times if start <= t <= end]
    if not inside:
        return round(end - start, 2)
    return round(max([inside[0] - start] + [b - a for a, b in zip(inside, inside[1:])]), 2)


def scalar(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchone()[0]


def durable_lag(url: str) -> int:
    return processes.durable_lag(url)


def stream_ids(url: str) -> list[str]:
    """The ``Nats-Msg-Id`` of every message in the stream."""
    return [message["id"] for message in processes.stream_envelopes(url)]


def ensure_clustered_stream() -> bool:
    try:
        call_command("ensure_stream", "--timeout", "5")
        return True
    except Exception:  # noqa: BLE001 - the new cluster may still be placing peers
        return False


def run_scenario(tmp_path, settings, fault_report, *, web_processes: int, consumers_per_module: int, relays: int,
                 clients: int = 4, seconds: float = 30.0) -> Figures:
    figures = Figures(web_processes, consumers_per_module, relays, clients, seconds)
    cluster = NatsCluster(tmp_path / "nats", first_port=settings.EMBEDDED_NATS_PORT + 400)
    started: list = []
    sock = None
    try:
        cluster.start_all()
        env = processes.subprocess_env(nats_url=cluster.url, **CLUSTER_ENV)  # before the override below
        settings.NATS_URL, settings.NATS_STREAM_REPLICAS = cluster.url, 3
        processes.wait_until(ensure_clustered_stream, 60, "the stream with 3 replicas", interval=1)
        call_command("setup_roles", verbosity=0)
        token, _ = issue_busywork_token()
        manage = [sys.executable, str(processes.MANAGE_PY)]

        port = processes.free_port(settings.EMBEDDED_NATS_PORT + 430)
        sock = listening_socket("127.0.0.1", port)
        for n in range(web_processes):
            started.append(LoggedProcess(http_server_argv(sock.fileno(), 2), tmp_path / f"web-{n}.log", env=env,
                                         pass_fds=(sock.fileno(),), start_new_session=True))
        for n in range(relays):
            started.append(LoggedProcess(manage + ["run_relay"], tmp_path / f"relay-{n}.log", env=env,
                                         start_new_session=True))
        consumers = []
        for module in MODULES:
            for n in range(consumers_per_module):
                consumers.append(processes.ManagedProcess(manage + ["run_consumers", "--modules", module], env,
                                                          tmp_path / f"consumers-{module}-{n}.log"))
        started += [c.process for c in consumers]
        base_url = f"http://127.0.0.1:{port}"
        wait_ready(base_url + "/readiness", started, timeout=120)
        for consumer in consumers:
            consumer.wait_for_log("consumers started", timeout=120)
        pids = {p.pid for p in started}

        asyncio.run(seed_catalog(base_url, token, stores=3, products=6, seed=3))
        for attempt in range(5):
            warm = asyncio.run(run_load(base_url, token, clients=2, duration=4, mix={"buy": 1.0}, underpay_rate=0,
                                        seed=attempt, poll_grace=60))
            if warm.approved:
                break
        else:
            raise AssertionError("no order approved while warming up")

        figures.killed = cluster.stream_leader(settings.NATS_STREAM)
        moments: dict[str, float] = {}

        def kill() -> None:
            moments["kill"] = time.time()
            cluster.kill(figures.killed)

        def bring_back() -> None:
            cluster.start(figures.killed)
            moments["back"] = time.time()

        timers = [threading.Timer(seconds / 3, kill), threading.Timer(seconds * 2 / 3, bring_back)]
        started_at = time.time()
        for timer in timers:
            timer.start()
        summary = asyncio.run(run_load(base_url, token, clients=clients, duration=seconds, seed=17, poll_grace=90,
                                       progress=figures.progress.append, progress_every=2))
        load_ended = time.time()
        for timer in timers:
            timer.join()

        processes.wait_until(lambda: not scalar("SELECT count(*) FROM eventstore_outbox WHERE published_at IS NULL")
                             and durable_lag(cluster.url) == 0
                             and not scalar("SELECT count(*) FROM eventstore_sagainstance"
                                            " WHERE status IN ('running', 'compensating')"),
                             180, "outbox, durables and sagas drained", interval=0.5)
        figures.drained_after_load_s = round(time.time() - load_ended, 1)
        assert {p.pid for p in started if p.poll() is None} == pids, "a process exited"

        kill_at = moments["kill"]
        figures.killed_at = datetime.fromtimestamp(kill_at, timezone.utc).strftime("%H:%M:%S.%f")[:-3] + " UTC"
        figures.requests_per_second = round(summary.requests_per_second, 1)
        figures.checkouts, figures.server_errors, figures.unresolved = (summary.checkouts, summary.server_errors,
                                                                       summary.unresolved)
        checkout_times = _checkout_times()
        before = [t for t in checkout_times if started_at <= t < kill_at]
        after = [t for t in checkout_times if kill_at <= t <= load_ended]
        figures.checkouts_per_second_before_kill = round(len(before) / max(kill_at - started_at, 1e-9), 2)
        figures.checkouts_per_second_after_kill = round(len(after) / max(load_ended - kill_at, 1e-9), 2)
        published = epochs("SELECT extract(epoch FROM published_at) FROM eventstore_outbox")
        approved = epochs("SELECT extract(epoch FROM occurred_at) FROM eventstore_event"
                          " WHERE event_name = 'ordering.OrderApproved'")
        busy_until = min(load_ended, started_at + seconds)
        figures.publish_pause_before_kill_s = longest_pause(published, started_at, kill_at)
        figures.publish_pause_after_kill_s = longest_pause(published, kill_at, busy_until)
        figures.approval_pause_before_kill_s = longest_pause(approved, started_at, kill_at)
        figures.approval_pause_after_kill_s = longest_pause(approved, kill_at, busy_until)
        figures.rows_retried = scalar("SELECT count(*) FROM eventstore_outbox WHERE attempts > 0")

        ids = stream_ids(cluster.url)
        outbox = {str(i) for i in scalar("SELECT array_agg(message_id) FROM eventstore_outbox")}
        figures.outbox_rows, figures.stream_messages = len(outbox), len(ids)
        figures.lost = len(outbox - set(ids))
        figures.duplicated = len(ids) - len(set(ids))
        checked_out = scalar("SELECT count(*) FROM eventstore_event WHERE event_name = 'baskets.BasketCheckedOut'")
        created = scalar("SELECT count(*) FROM eventstore_event WHERE stream_type = 'ordering.Order' AND version = 1")
        figures.orders_per_checkout = f"{created} orders for {checked_out} checkouts"

        audit = subprocess.run(manage + ["audit"], env={**env, "AUDIT_GRACE_SECONDS": "0"}, capture_output=True,
                               text=True, timeout=120)
        figures.audit = audit.stdout.strip().splitlines()[-1] if audit.stdout.strip() else audit.stderr[-300:]
        report(figures, summary.format(), audit.stdout, tmp_path)
        fault_report.fault(
            f"stream leader {figures.killed} of a 3-node JetStream cluster SIGKILLed at {seconds / 3:.0f} s, back at "
            f"{seconds * 2 / 3:.0f} s ({web_processes} web, {relays} relay(s), {consumers_per_module} consumer "
            f"process(es) per module)",
            load=f"{clients} clients {seconds:.0f} s: {figures.requests_per_second:.0f} req/s, {figures.checkouts} "
                 f"checkouts, {figures.server_errors} 5xx", lost=figures.lost, duplicated=figures.duplicated,
            recovery=f"longest pause after the kill: publishing {figures.publish_pause_after_kill_s} s, approvals "
                     f"{figures.approval_pause_after_kill_s} s; drained {figures.drained_after_load_s} s after the load",
            audit=figures.audit)
        assert audit.returncode == 0, audit.stdout + audit.stderr
        assert (figures.lost, figures.duplicated, figures.server_errors, figures.unresolved) == (0, 0, 0, 0)
        assert created == checked_out and checked_out >= summary.checkouts > 0
        assert figures.checkouts_per_second_after_kill > 0
        return figures
    finally:
        stop(*started, timeout=20)
        if sock is not None:
            sock.close()
        cluster.stop_all()


def _checkout_times() -> list[float]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extract(epoch FROM occurred_at) FROM eventstore_event"
                       " WHERE event_name = 'baskets.BasketCheckedOut'")
        return [float(row[0]) for row in cursor.fetchall()]


def report(figures: Figures, load: str, audit: str, tmp_path) -> None:
    data = asdict(figures)
    progress = data.pop("progress")
    print(f"\n=== {figures.web_processes} web, {figures.relays} relay, {figures.consumers_per_module} consumer "
          f"process(es) per module; stream leader {figures.killed} killed at {figures.seconds / 3:.0f}s, "
          f"back at {figures.seconds * 2 / 3:.0f}s")
    print(load)
    print("\n".join(progress))
    print(audit)
    print(json.dumps(data, indent=2))
    (tmp_path / "cluster-figures.json").write_text(json.dumps(asdict(figures), indent=2))


def test_given_a_three_node_cluster_when_the_stream_leader_is_killed_under_load_then_nothing_is_lost_or_duplicated(
        tmp_path, settings, fault_report):
    run_scenario(tmp_path, settings, fault_report, web_processes=1, consumers_per_module=1, relays=1)


def test_given_two_web_processes_two_relays_and_two_consumers_per_module_when_a_node_dies_then_the_same_holds(
        tmp_path, settings, fault_report):
    run_scenario(tmp_path, settings, fault_report, web_processes=2, consumers_per_module=2, relays=2)
