"""The web tier (ADR 23): one listening socket, HTTP and WebSocket carried by the same worker processes.

gunicorn's arbiter supervises ``WEB_WORKERS`` uvicorn workers on the socket ``run_all`` bound; each worker
runs ``mallbots_site.asgi.application``: HTTP goes to the WSGI application on a pool of ``WEB_THREADS``
threads, WebSockets to Channels. ``run_all`` and the benchmarks start the web tier through these two
functions so they cannot drift.
"""

from __future__ import annotations

import socket
import sys

WORKER_CLASS = "uvicorn_worker.UvicornWorker"


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind once in the parent; the server inherits the file descriptor."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def http_server_argv(fd: int | None, workers: int, *, bind: str = "") -> list[str]:
    """gunicorn with ``workers`` uvicorn workers serving the ASGI application (HTTP keep-alive, WebSocket)
    on the inherited socket ``fd`` (or, for tests, on ``bind``, e.g. ``127.0.0.1:18400``); SIGTERM stops them
    gracefully within ``--graceful-timeout``. No control socket: several web tiers (tests, benchmarks) run
    on one machine and it would be one path in ``$HOME``."""
    return [sys.executable, "-m", "gunicorn", "--bind", bind or f"fd://{fd}", "--workers", str(max(1, workers)),
            "--worker-class", WORKER_CLASS, "--timeout", "60", "--graceful-timeout", "20",
            "--no-control-socket", "--error-logfile", "-", "mallbots_site.asgi:application"]
