"""Real processes for tests: ``manage.py`` subprocesses, a stoppable nats-server, JetStream inspection.

``subprocess_env()`` points a child at the pytest TEST database (so call it inside a test that uses
the ``django_db(transaction=True)`` marker: the child only sees committed rows) and at the given NATS.
``run_command("run_relay", env=...)`` starts ``manage.py <command>`` in its own session with stdout and
stderr in a log file, and kills it when the ``with`` block ends.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import quote

from django.conf import settings

from devtools.processes import LoggedProcess, stop
from mallbots_site.embedded import nats_server_binary

T = TypeVar("T")

MANAGE_PY = Path(settings.BASE_DIR) / "manage.py"

FAST_SETTINGS = {
    "RELAY_POLL_INTERVAL_SECONDS": "0.5",
    "RELAY_STANDBY_POLL_SECONDS": "0.5",
    "RELAY_PUBLISH_TIMEOUT_SECONDS": "1",
    "RELAY_MAX_BACKOFF_SECONDS": "1",
    "CONSUMER_ACK_WAIT_SECONDS": "2",
    "CONSUMER_BACKOFF_SECONDS": "0.1,0.2,0.3,0.4,0.5",
    "SHUTDOWN_TIMEOUT_SECONDS": "5",
}


def database_url() -> str:
    """The URL of the database pytest-django set up (the TEST database, not the development one)."""
    from django.db import connection

    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return (f"postgres://{quote(db['USER'], safe='')}{password}@/{db['NAME']}"
            f"?host={quote(str(db['HOST']), safe='')}&port={db['PORT'] or 5432}")


def subprocess_env(*, nats_url: str | None = None, **overrides: Any) -> dict[str, str]:
    """Environment for a ``manage.py`` child: the suite's settings (toy app included), test database, NATS,
    short timeouts, ``overrides``."""
    env = dict(os.environ)
    env.update(FAST_SETTINGS)
    env.update({
        "DATABASE_URL": database_url(),
        "NATS_URL": nats_url or settings.NATS_URL,
        "NATS_STREAM": settings.NATS_STREAM,
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
    })
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def wait_until(predicate: Callable[[], T], timeout: float, what: str = "condition", interval: float = 0.05) -> T:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class ManagedProcess:
    """A started ``manage.py`` command with its log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.argv = argv
        self.log_path = log_path
        self.process = LoggedProcess(argv, log_path, append=True, env=env, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = 15.0, count: int = 1) -> str:
        """Wait until ``pattern`` (a regex) occurs ``count`` times in the log; fail early if the process died."""

        def found():
            text = self.log()
            if len(re.findall(pattern, text)) >= count:
                return text
            if not self.running:
                raise AssertionError(f"{self.argv[2]} exited {self.process.returncode} before {pattern!r}:\n{text}")
            return None

        return wait_until(found, timeout, f"{pattern!r} in {self.log_path}")

    def signal(self, sig: int) -> None:
        if self.running:
            os.kill(self.pid, sig)

    def kill(self) -> int:
        """SIGKILL (like a crash) and reap."""
        self.signal(signal.SIGKILL)
        return self.process.wait(10)

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait for a clean exit; return the exit status."""
        self.signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def cleanup(self) -> None:
        if self.running:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(10)


@contextmanager
def run_command(command: str, *args: str, env: dict[str, str], log_path: Path,
                crash: str | None = None) -> Iterator[ManagedProcess]:
    """Run ``manage.py <command> <args>`` for the duration of the block; SIGKILL whatever is left.

    ``crash`` names a hook of ``eventstore.tests.crashing`` that makes the process die at that moment.
    """
    entry = [str(MANAGE_PY)] if crash is None else ["-m", "eventstore.tests.crashing", crash]
    process = ManagedProcess([sys.executable, *entry, command, *args], env, log_path)
    try:
        yield process
    finally:
        process.cleanup()


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port(first: int) -> int:
    """The first port from ``first`` on that nobody listens on (kept below Linux's ephemeral range)."""
    for port in range(first, min(first + 200, 32768)):
        if not port_in_use(port):
            return port
    raise RuntimeError(f"no free port from {first}")


class NatsServer:
    """A dedicated JetStream nats-server that a test may stop and start again (same port and store)."""

    def __init__(self, port: int, store_dir: Path, log_path: Path) -> None:
        self.port = port
        self.store_dir = store_dir
        self.log_path = log_path
        self.process: LoggedProcess | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0, *, max_payload: int | None = None) -> None:
        """Start (again) on the same port and store; ``max_payload`` (bytes) through a configuration file."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        argv = [nats_server_binary(), "-js", "-sd", str(self.store_dir), "-a", "127.0.0.1", "-p", str(self.port)]
        if max_payload is not None:
            config = self.store_dir.parent / f"nats-{self.port}.conf"
            config.write_text(f"max_payload: {max_payload}\n")
            argv += ["-c", str(config)]
        self.process = LoggedProcess(argv, self.log_path, append=True, start_new_session=True)
        wait_until(lambda: port_in_use(self.port) or self.process.poll() is not None, timeout, f"nats on {self.port}")
        if self.process.poll() is not None:
            raise RuntimeError(f"nats-server exited; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, timeout=10)
        self.process = None


def run_async(coroutine_function: Callable[..., Any], *args: Any, timeout: float = 30.0) -> Any:
    """Run an ``async def`` from a synchronous test, bounded by ``timeout``."""
    return asyncio.run(asyncio.wait_for(coroutine_function(*args), timeout))


async def _with_jetstream(nats_url: str, action: Callable[[Any], Any]) -> Any:
    import nats

    nc = await nats.connect(servers=[nats_url], connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        return await action(nc.jetstream())
    finally:
        await nc.close()


def delete_stream(nats_url: str, stream: str) -> None:
    from nats.js.errors import NotFoundError

    async def action(js):
        try:
            await js.delete_stream(stream)
        except NotFoundError:
            pass

    run_async(_with_jetstream, nats_url, action)


def stream_info(nats_url: str, stream: str):
    async def action(js):
        return await js.stream_info(stream)

    return run_async(_with_jetstream, nats_url, action)


def stream_messages(nats_url: str, stream: str) -> list:
    """Every message stored in ``stream`` in sequence order (``RawStreamMsg``: subject, headers, data, time)."""

    async def action(js):
        info = await js.stream_info(stream)
        return [await js.get_msg(stream, seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)
                if info.state.messages]

    return run_async(_with_jetstream, nats_url, action)


def durable_lag(nats_url: str) -> int:
    """Messages pending or awaiting an ack over every durable of ``NATS_STREAM`` (``nats_url`` may list servers)."""
    async def read():
        import nats

        client = await nats.connect(servers=nats_url.split(","), connect_timeout=2, max_reconnect_attempts=0,
                                    allow_reconnect=False)
        try:
            infos = await client.jetstream().consumers_info(settings.NATS_STREAM)
            return sum((info.num_pending or 0) + (info.num_ack_pending or 0) for info in infos)
        finally:
            await client.close()

    return run_async(read, timeout=10)


def stream_envelopes(nats_url: str) -> list[dict]:
    """Every message of ``NATS_STREAM`` in stream order, read through an ephemeral pull consumer:
    ``{"id": <Nats-Msg-Id>, "subject": …, "metadata": <the envelope's metadata, {} if unparseable>}``."""
    import json

    async def read():
        import nats

        client = await nats.connect(servers=nats_url.split(","), connect_timeout=2)
        try:
            js = client.jetstream()
            subscription = await js.pull_subscribe("mallbots.>", stream=settings.NATS_STREAM)
            found = []
            while True:
                try:
                    batch = await subscription.fetch(500, timeout=2)
                except asyncio.TimeoutError:
                    return found
                for message in batch:
                    try:
                        metadata = json.loads(message.data).get("metadata") or {}
                    except (ValueError, AttributeError):
                        metadata = {}
                    found.append({"id": (message.headers or {}).get("Nats-Msg-Id", ""), "subject": message.subject,
                                  "metadata": metadata})
                    await message.ack()
                if batch and batch[-1].metadata.num_pending == 0:
                    return found
        finally:
            await client.close()

    return run_async(read, timeout=300)
