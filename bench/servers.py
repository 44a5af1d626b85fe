"""Web servers for HTTP benchmarks, started as subprocesses attached to the run's database and NATS.

``project_web`` is the web tier as ``run_all`` starts it (``settings.WEB_WORKERS`` gunicorn gthread workers
sharing one listening socket via ``--fd``); ``gunicorn_sync`` is the plain-Django reference.
Both serve ``DJANGO_SETTINGS_MODULE=bench.settings`` (the project's URLs plus ``/bench/hello``).
Output goes to ``VAR_DIR/bench-logs/<name>.log``.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

from bench import core

SETTINGS_MODULE = "bench.settings"


class ServerError(RuntimeError):
    pass


def _log_path(ctx: core.Context, name: str) -> Path:
    logs = ctx.var_dir / "bench-logs"
    logs.mkdir(exist_ok=True)
    return logs / f"{name}.log"


def _spawn(ctx: core.Context, name: str, argv: list[str], pass_fds: tuple[int, ...] = ()) -> subprocess.Popen:
    path = _log_path(ctx, name)
    with open(path, "wb") as log:
        process = subprocess.Popen(argv, cwd=ctx.settings.BASE_DIR, env=ctx.env(DJANGO_SETTINGS_MODULE=SETTINGS_MODULE),
                                   stdout=log, stderr=subprocess.STDOUT, pass_fds=pass_fds)
    process.log_path = str(path)
    return process


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def wait_ready(url: str, processes: list[subprocess.Popen], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if any(p.poll() is not None for p in processes):
            raise ServerError(f"server exited before answering {url}: "
                              + _tail(Path(next(p for p in processes if p.poll() is not None).log_path)))
        if time.monotonic() > deadline:
            raise ServerError(f"no answer from {url} within {timeout:.0f} s")
        time.sleep(0.2)


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
    processes: list[subprocess.Popen] = []
    name = f"project-web-{port}"
    try:
        processes.append(_spawn(ctx, name, http_server_argv(sock.fileno(), workers), pass_fds=(sock.fileno(),)))
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + ready_path, processes)
        _wait_listening(_log_path(ctx, name), workers, processes)
        yield base
    finally:
        _stop(processes)
        sock.close()


def _wait_listening(log: Path, workers: int, processes: list[subprocess.Popen], timeout: float = 30) -> None:
    """Every gunicorn worker booted (one answering worker says nothing about the others)."""
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count("Booting worker") < workers:
        if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
            raise ServerError(f"not every web worker is up; see {log}")
        time.sleep(0.1)


@contextlib.contextmanager
def gunicorn_sync(ctx: core.Context, port: int, workers: int = 2, ready_path: str = "/liveness") -> Iterator[str]:
    """gunicorn with ``workers`` sync workers serving the project's WSGI application."""
    _require_free(port)
    process = _spawn(ctx, f"gunicorn-{port}", [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                                               "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
                                               "mallbots_site.wsgi:application"])
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + ready_path, [process])
        yield base
    finally:
        _stop([process])
