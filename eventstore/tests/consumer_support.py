"""Helpers for consumer-runner tests: toy messages, direct JetStream publishing, a ``run_consumers`` child.

Messages are published straight to JetStream (body = envelope JSON, header ``Nats-Msg-Id``), so these
tests do not depend on the relay.
"""

from __future__ import annotations

import re
import socket
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from django.conf import settings
from django.db import transaction

from eventstore.envelope import Envelope
from eventstore.models import OutboxMessage
from eventstore.repository import Repository
from eventstore.testing import envelope_of
from eventstore.tests.processes import ManagedProcess, run_async, run_command, subprocess_env
from toyapp.contracts import COUNTER_SUBJECT
from toyapp.domain import Counter
from toyapp.models import Tally

CONSUMER_SETTINGS = {
    "CONSUMER_BACKOFF_SECONDS": "0.2,0.2,0.2,0.2,0.2",
    "CONSUMER_MAX_DELIVER": "3",
    "CONSUMER_ACK_WAIT_SECONDS": "2",
    "CONSUMER_FETCH_BATCH": "10",
    "LOG_LEVEL": "DEBUG",
}

repo = Repository(Counter)


def increments(*steps: int) -> tuple[str, list[Envelope]]:
    """Open a toy counter and increment it by each step; return its id and the CounterIncremented envelopes."""
    counter = Counter.open(str(uuid.uuid4()), "consumed")
    for by in steps:
        counter.increment(by)
    with transaction.atomic():
        repo.create(counter)
    rows = OutboxMessage.objects.filter(name="toyapi.CounterIncremented",
                                        payload__id=counter.id).order_by("position")
    return counter.id, [envelope_of(row) for row in rows]


def tally(counter_id: str) -> Tally | None:
    return Tally.objects.filter(counter_id=counter_id).first()


def handled_count(counter_id: str) -> int:
    row = tally(counter_id)
    return row.handled if row else 0


async def _publish(nats_url: str, messages: list[tuple[str, bytes, str]]) -> None:
    import nats

    nc = await nats.connect(servers=[nats_url], connect_timeout=2, allow_reconnect=False)
    try:
        js = nc.jetstream()
        for subject, body, message_id in messages:
            await js.publish(subject, body, headers={"Nats-Msg-Id": message_id, "Content-Type": "application/json"})
    finally:
        await nc.close()


def publish(*envelopes: Envelope, nats_url: str | None = None) -> None:
    """Publish envelopes to JetStream exactly as the relay would (awaits each JetStream ack)."""
    run_async(_publish, nats_url or settings.NATS_URL,
              [(e.subject, e.to_json(), e.id) for e in envelopes])


def publish_raw(body: bytes, *, message_id: str, subject: str = COUNTER_SUBJECT, nats_url: str | None = None) -> None:
    run_async(_publish, nats_url or settings.NATS_URL, [(subject, body, message_id)])


def consumer_env(**overrides) -> dict[str, str]:
    return subprocess_env(**{**CONSUMER_SETTINGS, **overrides})


@contextmanager
def run_consumers(tmp_path: Path, *, name: str = "consumers", nats_url: str | None = None,
                  crash: str | None = None, **overrides) -> Iterator[ManagedProcess]:
    """``manage.py run_consumers --modules toy`` with fast settings, killed when the block ends."""
    env = consumer_env(**overrides)
    if nats_url:
        env["NATS_URL"] = nats_url
    with run_command("run_consumers", "--modules", "toy", env=env, log_path=tmp_path / f"{name}.log",
                     crash=crash) as process:
        yield process


def outcomes(log: str, message_id: str) -> list[str]:
    """The outcomes the runner logged for one message id, in order."""
    return re.findall(rf"message_id={re.escape(message_id)} outcome=([\w-]+)", log)


class DatabaseCable:
    """A TCP port forwarding to the test PostgreSQL's unix socket that a test can unplug and plug in again.

    Unplugging closes the listener and every forwarded connection, so a child process pointed at
    ``url`` sees the database vanish exactly as when the server goes away.
    """

    def __init__(self) -> None:
        from django.db import connection

        from eventstore.tests.processes import free_port

        db = connection.settings_dict
        self.target = f"{db['HOST']}/.s.PGSQL.{db['PORT'] or 5432}"
        self.name, self.user = db["NAME"], db["USER"]
        self.port = free_port(settings.EMBEDDED_NATS_PORT + 60)
        self.listener = None
        self.sockets: list = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{self.name}"

    def plug(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def unplug(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                server.connect(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
