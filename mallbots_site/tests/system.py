"""The whole system as real processes, for the fault suite (``make faults``, quality.md §2).

``System`` starts what ``run_all`` starts, from the same pieces: the web tier (gunicorn with ``WEB_WORKERS``
uvicorn workers on a socket bound once, ``mallbots_site.web.http_server_argv``), the relay, one
``run_consumers --modules <module>`` process per module (``run_all.consumer_modules``) and ``qcluster``
(``run_all.CHILD_ENV``), against the suite's PostgreSQL (the pytest TEST database) and a nats-server of its
own that a test can stop and start. The bot simulator (``run_bots``) runs during each test's load and is
stopped (SIGTERM: idle bots go offline) before the system drains, so the thorough audit sees a quiet
system. Busywork (``busywork.run_load``) drives the API over HTTP from a thread while the test injects
its fault.

The processes are not under ``run_all``'s supervisor: a test restarts what it killed itself (after the same
2 s), which also lets it start a crash-hooked relay or consumer (``eventstore/tests/crashing.py``) or a
second relay in their place. Web workers are restarted by gunicorn's arbiter, as in production.

Settings are production's except: handler ack wait 10 s (a killed consumer's messages come back sooner),
fast bots that find every item (orders move past ``approved`` under load; busywork counts a paid order that
ends ``cancelled`` as a problem, and a fast bot reporting everything unavailable cancels an approved order
before busywork has seen it approved). Handler backoff is production's (1, 2, 5, 10, 30 s):
a message waiting with ``RetryLater`` for another module must outlast an outage, not just the suite's.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from django.conf import settings
from django.core.management import call_command
from django.db import InterfaceError, OperationalError, connection

from busywork import issue_busywork_token, run_load, seed_catalog
from devtools.processes import LoggedProcess, answers, children, stop, wait_ready
from eventstore import messaging
from eventstore.tests import processes
from mallbots_site.management.commands.run_all import CHILD_ENV, consumer_modules
from mallbots_site.web import http_server_argv, listening_socket

SYSTEM_ENV = {
    "CONSUMER_BACKOFF_SECONDS": "1,2,5,10,30",
    "CONSUMER_ACK_WAIT_SECONDS": "10",
    "CONSUMER_MAX_DELIVER": "5",
    "RELAY_POLL_INTERVAL_SECONDS": "1",
    "RELAY_STANDBY_POLL_SECONDS": "2",
    "RELAY_PUBLISH_TIMEOUT_SECONDS": "5",
    "RELAY_MAX_BACKOFF_SECONDS": "30",
    "SHUTDOWN_TIMEOUT_SECONDS": "10",
    "WEB_WORKERS": "2",
    "BOT_SIM_POLL_SECONDS": "0.3",
    "BOT_SIM_TRAVEL_SECONDS": "0.1",
    "BOT_SIM_PICK_SECONDS": "0.02",
    "BOT_SIM_UNAVAILABLE_RATE": "0",
}
RESTART_AFTER_SECONDS = 2.0
BOTS = 3


def scalar(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchone()[0]


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def reconnected() -> None:
    """Drop the test process's own connection (after a PostgreSQL restart it is dead)."""
    with contextlib.suppress(OperationalError, InterfaceError):
        connection.close()


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` the rest."""
    wanted, given = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(given) > index
        if index >= len(given) or (token != "*" and token != given[index]):
            return False
    return len(wanted) == len(given)


@dataclass
class LoadRun:
    """One busywork run in a thread: its summary, and when it started and ended (epoch seconds)."""

    clients: int
    seconds: float
    started: float = 0.0
    ended: float = 0.0
    summary: object = None
    error: BaseException | None = None
    progress: list[str] = field(default_factory=list)

    def describe(self) -> str:
        s = self.summary
        if s is None:
            return f"busywork failed: {self.error!r}"
        return (f"{self.clients} clients {self.seconds:.0f} s + {BOTS} bots: {s.requests_per_second:.0f} req/s, "
                f"{s.checkouts} checkouts ({s.approved} approved), {s.server_errors} 5xx")


@dataclass
class Ledger:
    """Messages lost and effects duplicated, from the outbox, the stream, the inboxes and the read models."""

    outbox_rows: int
    stream_messages: int
    missing_from_stream: int
    undelivered: list[tuple[str, str]]
    stream_copies: int
    business_duplicates: dict[str, int]
    order_breaks: list[str]

    @property
    def lost(self) -> int:
        return self.missing_from_stream + len(self.undelivered)

    @property
    def duplicated(self) -> int:
        return self.stream_copies + sum(self.business_duplicates.values())


class System:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.nats = processes.NatsServer(port=processes.free_port(settings.EMBEDDED_NATS_PORT + 300),
                                         store_dir=self.directory / "nats-store",
                                         log_path=self.directory / "nats-server.log")
        self.port = processes.free_port(settings.EMBEDDED_NATS_PORT + 330)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.sock = None
        self.web: LoggedProcess | None = None
        self.managed: dict[str, processes.ManagedProcess] = {}
        self.modules = consumer_modules()
        self.token = ""
        self.manage = [sys.executable, str(processes.MANAGE_PY)]

    # ------------------------------------------------------------------ processes

    @property
    def env(self) -> dict[str, str]:
        return processes.subprocess_env(nats_url=self.nats.url, **SYSTEM_ENV, WEB_PORT=self.port,
                                        BOT_SIM_BASE_URL=self.base_url)

    def start(self) -> None:
        self.nats.start()
        done = subprocess.run(self.manage + ["ensure_stream"], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        self.prepare()
        self.sock = listening_socket("127.0.0.1", self.port)
        self.web = LoggedProcess(http_server_argv(self.sock.fileno(), int(SYSTEM_ENV["WEB_WORKERS"])),
                                 self.directory / "web.log", env=self.env, pass_fds=(self.sock.fileno(),),
                                 start_new_session=True)
        self.start_process("relay", ["run_relay"])
        for module in self.modules:
            self.start_process(f"consumers-{module}", ["run_consumers", "--modules", module])
        self.start_process("qcluster", ["qcluster"], env=CHILD_ENV["qcluster"])
        wait_ready(self.base_url + "/readiness", [self.web], timeout=120)
        self.managed["relay"].wait_for_log("listening on mallbots_outbox", timeout=120)
        for module in self.modules:
            self.managed[f"consumers-{module}"].wait_for_log("consumers started", timeout=120)

    def prepare(self) -> None:
        """What ``run_all`` does before it starts the processes (roles, schedules), a staff token for busywork,
        and a catalog: on a fresh database, at the start of each test (pytest-django empties the tables
        after each one)."""
        call_command("setup_roles", verbosity=0)
        call_command("setup_schedules", stdout=io.StringIO())
        self.token, _ = issue_busywork_token()
        if self.web is not None:
            asyncio.run(seed_catalog(self.base_url, self.token, stores=3, products=6, seed=3))

    def start_process(self, name: str, argv: list[str], *, crash: str | None = None,
                      env: dict[str, str] | None = None) -> processes.ManagedProcess:
        """``manage.py <argv>`` (or under a crash hook) as ``name``, its log in ``<name>.log`` (appended)."""
        entry = [str(processes.MANAGE_PY)] if crash is None else ["-m", "eventstore.tests.crashing", crash]
        process = processes.ManagedProcess([sys.executable, *entry, *argv], {**self.env, **(env or {})},
                                           self.directory / f"{name}.log")
        process.name, process.command = name, argv
        self.managed[name] = process
        return process

    def kill(self, name: str) -> int:
        """SIGKILL the process ``name`` (like a crash); return its pid."""
        process = self.managed[name]
        pid = process.pid
        process.kill()
        return pid

    def restart(self, name: str, *, crash: str | None = None) -> processes.ManagedProcess:
        old = self.managed[name]
        if old.running:
            old.terminate(20)
        return self.start_process(name, old.command, crash=crash)

    def stop_process(self, name: str) -> int:
        process = self.managed.pop(name)
        return process.terminate(30) if process.running else process.process.returncode

    def web_workers(self) -> list[int]:
        return sorted(children(self.web.pid)) if self.web is not None else []

    def pids(self) -> dict[str, int]:
        """Every running process of the system by name (web workers as ``web-worker-<n>``)."""
        found = {name: p.pid for name, p in self.managed.items() if p.running}
        found["web"] = self.web.pid
        found.update({f"web-worker-{n}": pid for n, pid in enumerate(self.web_workers())})
        return found

    def exited(self) -> list[str]:
        return [name for name, p in self.managed.items() if not p.running] + (
            ["web"] if self.web is None or self.web.poll() is not None else [])

    def stop(self) -> None:
        bots = self.managed.pop("bots", None)
        if bots is not None and bots.running:
            bots.terminate(30)
        stop(*[p.process for p in self.managed.values()], *([self.web] if self.web else []), timeout=30)
        self.managed.clear()
        if self.sock is not None:
            self.sock.close()
        self.nats.stop()

    # ------------------------------------------------------------------ load

    def start_bots(self) -> None:
        self.start_process("bots", ["run_bots", "--count", str(BOTS)]).wait_for_log("simulated bot", timeout=60)

    def stop_bots(self) -> None:
        if "bots" in self.managed:
            assert self.stop_process("bots") == 0

    @contextlib.contextmanager
    def load(self, seconds: float, clients: int = 4, seed: int = 17) -> Iterator[LoadRun]:
        """Bots and busywork for ``seconds`` in the background while the block injects its fault; after the
        block, waits for the load to end (orders followed up to 60 s more) and stops the bots."""
        run = LoadRun(clients, seconds)
        self.start_bots()

        def drive() -> None:
            try:
                run.summary = asyncio.run(run_load(self.base_url, self.token, clients=clients, duration=seconds,
                                                   seed=seed, poll_grace=60, progress=run.progress.append,
                                                   progress_every=5))
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                run.error = exc
            finally:
                run.ended = time.time()

        thread = threading.Thread(target=drive, name="busywork")
        run.started = time.time()
        thread.start()
        try:
            yield run
        finally:
            thread.join(seconds + 180)
            self.stop_bots()
        if run.error is not None:
            raise run.error

    # ------------------------------------------------------------------ checks

    def drained(self) -> bool:
        try:
            return (not scalar("SELECT count(*) FROM eventstore_outbox"
                               " WHERE published_at IS NULL AND dead_lettered_at IS NULL")
                    and not scalar("SELECT count(*) FROM eventstore_sagainstance"
                                   " WHERE status IN ('running', 'compensating')")
                    and processes.durable_lag(self.nats.url) == 0)
        except (OperationalError, InterfaceError):
            reconnected()
            return False

    def wait_drained(self, timeout: float = 240) -> float:
        """Until the outbox is published, every durable has acked everything and no saga runs; seconds waited."""
        started = time.monotonic()
        processes.wait_until(self.drained, timeout, "outbox, durables and sagas drained", interval=0.5)
        return time.monotonic() - started

    def audit(self, *, thorough: bool = True) -> tuple[bool, str, list[dict]]:
        """``manage.py audit [--thorough] --json`` with no grace period (the system is quiet)."""
        argv = self.manage + ["audit", "--json"] + (["--thorough"] if thorough else [])
        done = subprocess.run(argv, env={**self.env, "AUDIT_GRACE_SECONDS": "0"}, capture_output=True, text=True,
                              timeout=600)
        (self.directory / "audit.log").open("a").write(done.stdout + done.stderr)
        findings = json.loads(done.stdout) if done.stdout.strip().startswith("[") else []
        breached = [f["check"] for f in findings if f["breach"]]
        summary = f"{len(findings)} checks, {len(breached)} breached" + (f": {', '.join(breached)}" if breached
                                                                          else "")
        if not findings:
            summary = f"audit failed: {done.stderr[-300:]}"
        return done.returncode == 0, summary, findings

    def ledger(self) -> Ledger:
        """Every outbox row published is in the stream once, and reached every durable whose subject and
        handlers take it (an inbox row or a dead letter); no order got two shopping lists or two invoices;
        each aggregate's events are in the stream in version order."""
        messages = processes.stream_envelopes(self.nats.url)
        ids = [m["id"] for m in messages]
        published = rows("SELECT message_id::text, name, subject FROM eventstore_outbox WHERE published_at IS NOT NULL")
        taken = set(rows("SELECT consumer, message_id::text FROM eventstore_inbox"))
        taken |= set(rows("SELECT consumer, message_id FROM eventstore_deadletter"))
        expected = [(durable.name, message_id) for message_id, name, subject in published
                    for durable in messaging.durables()
                    if name in durable.handlers and subject_matches(durable.subject, subject)]
        duplicates = {
            "shopping lists per order": scalar("SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM"
                                               " depot_shoppinglist GROUP BY order_id) t"),
            "invoices per order": scalar("SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM"
                                         " payments_invoice GROUP BY order_id) t"),
            "one-time events recorded twice": scalar(
                "SELECT count(*) FROM (SELECT stream_id, event_name FROM eventstore_event WHERE event_name IN"
                " ('ordering.OrderApproved', 'ordering.OrderReadied', 'ordering.OrderCompleted',"
                "  'ordering.OrderRejected', 'payments.PaymentConfirmed', 'payments.PaymentCaptured',"
                "  'payments.InvoicePaid', 'depot.ShoppingListCompleted')"
                " GROUP BY stream_id, event_name HAVING count(*) > 1) t"),
        }
        return Ledger(outbox_rows=len(published), stream_messages=len(messages),
                      missing_from_stream=len({m for m, _, _ in published} - set(ids)),
                      undelivered=sorted(set(expected) - taken), stream_copies=len(ids) - len(set(ids)),
                      business_duplicates={k: int(v) for k, v in duplicates.items() if v},
                      order_breaks=version_order_breaks(messages))

    def first_event_after(self, name: str, moment: float) -> float | None:
        value = scalar("SELECT extract(epoch FROM min(occurred_at)) FROM eventstore_event"
                       " WHERE event_name = %s AND occurred_at > to_timestamp(%s)", [name, moment])
        return float(value) if value is not None else None

    def longest_pause(self, name: str, start: float, end: float) -> float:
        """The longest time without a ``name`` event in [start, end]."""
        times = [float(r[0]) for r in rows(
            "SELECT extract(epoch FROM occurred_at) FROM eventstore_event WHERE event_name = %s"
            " AND occurred_at BETWEEN to_timestamp(%s) AND to_timestamp(%s) ORDER BY occurred_at", [name, start, end])]
        points = [start, *times, end]
        return round(max(b - a for a, b in zip(points, points[1:])), 1)

    def answers(self, path: str = "/readiness") -> bool:
        return answers(self.base_url + path)


def version_order_breaks(messages: list[dict]) -> list[str]:
    """Aggregates whose events are not in version order in the stream."""
    last: dict[str, int] = {}
    broken = []
    for message in messages:
        metadata = message.get("metadata") or {}
        if "aggregate_id" not in metadata:
            continue
        key = f"{metadata.get('aggregate_type')}:{metadata['aggregate_id']}"
        version = int(metadata.get("aggregate_version") or 0)
        if version <= last.get(key, 0):
            broken.append(f"{key} v{version} after v{last[key]}")
        last[key] = max(version, last.get(key, 0))
    return broken


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


class EmbeddedPostgres:
    """The suite's pgserver instance (``VAR_DIR/pgdata``, started by this pytest process through
    ``bootstrap.prepare``), stopped and started again in place: same data directory, socket and port."""

    def __init__(self) -> None:
        import pgserver

        self.server = pgserver.get_server(Path(settings.VAR_DIR) / "pgdata")

    @classmethod
    def of_this_suite(cls) -> "EmbeddedPostgres | None":
        """``None`` when the suite's database is not the embedded server (``DATABASE_URL`` given from outside)."""
        pgdata = Path(settings.VAR_DIR) / "pgdata"
        host = str(connection.settings_dict.get("HOST") or "")
        if not (pgdata / "postmaster.pid").exists() or not host.startswith("/"):
            return None
        embedded = cls()
        socket_dir = embedded.server.get_postmaster_info().socket_dir
        return embedded if socket_dir is not None and Path(host) == Path(socket_dir) else None

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: clients are disconnected, the server shuts down cleanly."""
        from pgserver._commands import pg_ctl

        reconnected()
        pg_ctl(["-m", "fast", "-w", "stop"], pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)

    def start(self) -> None:
        """Start it as pgserver does (its lock, its options), and refresh what pgserver knows of it, so the
        suite's exit still stops it."""
        with self.server._lock:
            self.server.ensure_postgres_running()
        reconnected()


def projection_differences(app: str, limit: int = 6) -> list[str]:
    """Rows of ``app``'s read models that a rebuild would change (what ``projection-drift`` counts), as
    ``-<live row>`` / ``+<rebuilt row>`` (at most ``limit`` of each table), inside a transaction that is
    rolled back."""
    from django.db import transaction

    from eventstore import projections

    tables = [model for group in projections.groups_of(app) for model in group.tables]

    def snapshot() -> set[tuple[str, str]]:
        found = set()
        for model in tables:
            table = connection.ops.quote_name(model._meta.db_table)
            found |= {(model._meta.label, r[0]) for r in rows(f"SELECT t::text FROM {table} t")}
        return found

    with transaction.atomic():
        before = snapshot()
        projections.rebuild(app)
        after = snapshot()
        transaction.set_rollback(True)
    def sample(differing: set[tuple[str, str]], sign: str) -> list[str]:
        labels = sorted({label for label, _ in differing})
        return [f"{sign}{label} {row}" for name in labels
                for label, row in sorted(item for item in differing if item[0] == name)[:limit]]

    return sample(before - after, "-") + sample(after - before, "+")
