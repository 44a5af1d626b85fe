"""Web servers for HTTP benchmarks, started as subprocesses attached to the run's database and NATS.

``project_web`` is the web tier as ``run_all`` starts it (``mallbots_site.web``: ``settings.WEB_WORKERS``
uvicorn workers under gunicorn sharing one listening socket via ``fd://``, HTTP on a thread pool and WebSocket); ``gunicorn_sync`` is the plain-Django reference.
Both serve ``DJANGO_SETTINGS_MODULE=bench.settings`` (the project's URLs plus ``/bench/hello``).
Output goes to ``VAR_DIR/bench-logs/<name>.log``.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from bench import core
from devtools import processes

SETTINGS_MODULE = "bench.settings"


class ServerError(RuntimeError):
    pass


def _spawn(ctx: core.Context, name: str, argv: list[str], pass_fds: tuple[int, ...] = ()) -> processes.LoggedProcess:
    return processes.LoggedProcess(argv, ctx.log_path(name), cwd=ctx.settings.BASE_DIR,
                                   env=ctx.env(DJANGO_SETTINGS_MODULE=SETTINGS_MODULE), pass_fds=pass_fds)


def _require_free(port: int) -> None:
    if not core.port_free(port):
        raise ServerError(f"port {port} is in use")


@contextlib.contextmanager
def project_web(ctx: core.Context, port: int, ready_path: str = "/liveness",
                workers: int | None = None) -> Iterator[str]:
    """The ``run_all`` web tier on ``127.0.0.1:port``; yields its base URL once it answers."""
    from mallbots_site.web import http_server_argv, listening_socket

    _require_free(port)
    workers = max(1, workers or ctx.settings.WEB_WORKERS)
    sock = listening_socket("127.0.0.1", port)
    web = None
    try:
        web = _spawn(ctx, f"project-web-{port}", http_server_argv(sock.fileno(), workers), pass_fds=(sock.fileno(),))
        base = f"http://127.0.0.1:{port}"
        processes.wait_ready(base + ready_path, [web])
        processes.wait_until(lambda: web.log_path.read_text(errors="replace").count("Booting worker") >= workers, 30,
                             "not every web worker is up", watch=[web], interval=0.1)
        yield base
    finally:
        if web is not None:
            processes.stop(web)
        sock.close()


@contextlib.contextmanager
def gunicorn_sync(ctx: core.Context, port: int, workers: int = 2, ready_path: str = "/liveness") -> Iterator[str]:
    """gunicorn with ``workers`` sync workers serving the project's WSGI application."""
    _require_free(port)
    process = _spawn(ctx, f"gunicorn-{port}", [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                                               "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
                                               "mallbots_site.wsgi:application"])
    try:
        base = f"http://127.0.0.1:{port}"
        processes.wait_ready(base + ready_path, [process])
        yield base
    finally:
        processes.stop(process)
