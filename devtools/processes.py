"""Child processes for the benchmark and the tests: a log file each, waiting on them, stopping them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")


class ProcessError(RuntimeError):
    """A child exited before it was ready, or was not ready in time."""


class LoggedProcess(subprocess.Popen):
    """A child with stdout and stderr in ``log_path`` (truncated first unless ``append``) and no stdin.

    Other keyword arguments go to ``subprocess.Popen`` (``env``, ``cwd``, ``pass_fds``,
    ``start_new_session``).
    """

    def __init__(self, argv: list[str], log_path: Path, *, append: bool = False, **popen) -> None:
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab" if append else "wb") as log:
            super().__init__(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **popen)

    def tail(self, lines: int = 5) -> str:
        return tail(self.log_path, lines)


def tail(path: Path, lines: int = 5) -> str:
    """The last ``lines`` lines of a log joined by `` | `` (empty when it cannot be read)."""
    try:
        return " | ".join(Path(path).read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    """Direct children of ``pid``, from ``/proc``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def stop(*processes: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM every process still running and wait for all of them, ``timeout`` seconds in total.

    Past that, each one still running gets SIGKILL: its process group when it leads one (started with
    ``start_new_session``), the process itself otherwise, and the groups of the children it had when
    asked to stop (``run_all`` starts each child in a session of its own).
    """
    running = [process for process in processes if process.poll() is None]
    offspring = {process.pid: children(process.pid) for process in running}
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for group in (process.pid, *offspring[process.pid]):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(group, signal.SIGKILL)
            process.kill()
            process.wait(10)


def wait_until(ready: Callable[[], T], timeout: float, what: str, *, watch: Iterable[subprocess.Popen] = (),
               interval: float = 0.2) -> T:
    """Poll ``ready`` until it returns something truthy and return that.

    ``ProcessError`` naming ``what`` when a process in ``watch`` exits first or after ``timeout``
    seconds, with the tail of the log of the process that exited (or of the first one).
    """
    watch = list(watch)
    deadline = time.monotonic() + timeout
    while True:
        value = ready()
        if value:
            return value
        exited = next((process for process in watch if process.poll() is not None), None)
        if exited is not None:
            raise ProcessError(f"{what}: process exited with {exited.returncode}: {_tail_of(exited)}")
        if time.monotonic() > deadline:
            raise ProcessError(f"{what}: nothing after {timeout:.0f} s: {_tail_of(watch[0]) if watch else ''}")
        time.sleep(interval)


def answers(url: str) -> bool:
    """``GET url`` answers 200 within 2 seconds."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_ready(url: str, watch: Iterable[subprocess.Popen], timeout: float = 60.0) -> None:
    """Until ``url`` answers 200 (``wait_until``)."""
    wait_until(lambda: answers(url), timeout, f"no answer from {url}", watch=watch)


def _tail_of(process: subprocess.Popen) -> str:
    path = getattr(process, "log_path", None)
    return tail(path) if path else ""
