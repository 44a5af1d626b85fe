"""The web tier (ADR 3): one listening socket, HTTP served by gunicorn gthread workers on it.

``run_all`` and the benchmarks start the web tier through these two functions so they cannot drift.
"""

from __future__ import annotations

import socket
import sys


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind once in the parent; the HTTP server inherits the file descriptor."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def http_server_argv(fd: int | None, workers: int, *, bind: str = "") -> list[str]:
    """gunicorn with ``workers`` gthread workers (``WEB_THREADS`` threads each, HTTP keep-alive) serving the
    WSGI application on the inherited socket ``fd`` (or, for tests, on ``bind``, e.g. ``127.0.0.1:18400``)."""
    from django.conf import settings

    return [sys.executable, "-m", "gunicorn", "--bind", bind or f"fd://{fd}", "--workers", str(max(1, workers)),
            "--worker-class", "gthread", "--threads", str(max(1, settings.WEB_THREADS)), "--timeout", "60",
            "--graceful-timeout", "20", "--error-logfile", "-", "mallbots_site.wsgi:application"]
