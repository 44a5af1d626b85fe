"""CPU time and memory of the processes of a running system, by role (psutil).

``roles_of_run_all(pid)`` names every process of a ``manage.py run_all`` tree by the child it belongs to:
``web`` (the gunicorn arbiter and its workers), ``relay``, ``consumers-<module>``, ``qcluster`` (the cluster
and its forked workers), ``simulator`` (``run_bots``) and ``supervisor`` (``run_all`` itself). ``Watch``
samples a set of named process groups in a background thread and reports, per role, the CPU seconds spent
between ``start()`` and ``stop()`` and the resident memory over time. A process that started in between
counts with all its CPU time; one that ended in between counts up to its last sample (so sampling often
keeps that loss small: qcluster recycles its workers).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import psutil

Groups = Callable[[], dict[int, str]]
"""A function returning {pid: role} for the processes to watch right now."""


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return []


def child_role(argv: list[str]) -> str:
    """The role of a direct child of ``run_all`` from its command line."""
    text = " ".join(argv)
    if "gunicorn" in text:
        return "web"
    if "run_relay" in argv:
        return "relay"
    if "run_consumers" in argv:
        module = argv[argv.index("--modules") + 1] if "--modules" in argv[:-1] else "all"
        return f"consumers-{module}"
    if "qcluster" in argv:
        return "qcluster"
    if "run_bots" in argv:
        return "simulator"
    return "other"


class ProcessTable:
    """Parent → children of every process, read once (one pass over ``/proc``): ``psutil.Process.children``
    reads the whole table on every call, and a sample of ``run_all``'s tree called it once per child (about
    29 CPU ms per sample, some 6 % of a core at two samples a second, charged to the load generator)."""

    def __init__(self) -> None:
        self.children: dict[int, list[int]] = {}
        for process in psutil.process_iter(["ppid"]):
            self.children.setdefault(process.info["ppid"], []).append(process.pid)

    def descendants(self, pid: int) -> list[int]:
        found, stack = [], list(self.children.get(pid, ()))
        while stack:
            child = stack.pop()
            found.append(child)
            stack.extend(self.children.get(child, ()))
        return found


def roles_of_run_all(pid: int, table: ProcessTable | None = None) -> dict[int, str]:
    """{pid: role} of the ``run_all`` process ``pid`` and all its descendants (empty once it is gone)."""
    if not psutil.pid_exists(pid):
        return {}
    table = table or ProcessTable()
    roles = {pid: "supervisor"}
    for child in table.children.get(pid, ()):
        try:
            role = child_role(_cmdline(psutil.Process(child)))
        except psutil.NoSuchProcess:
            continue
        roles[child] = role
        roles.update({descendant: role for descendant in table.descendants(child)})
    return roles


def postmaster_of(var_dir) -> int | None:
    """The pid of the embedded PostgreSQL server whose data directory is ``var_dir/pgdata``."""
    pid_file = os.path.join(str(var_dir), "pgdata", "postmaster.pid")
    try:
        with open(pid_file) as handle:
            return int(handle.readline().strip())
    except (OSError, ValueError):
        return None


def tree(pid: int | None, role: str, table: ProcessTable | None = None) -> dict[int, str]:
    """{pid: role} for ``pid`` and its descendants (PostgreSQL: the postmaster and its backends)."""
    if pid is None or not psutil.pid_exists(pid):
        return {}
    table = table or ProcessTable()
    return {pid: role, **{descendant: role for descendant in table.descendants(pid)}}


@dataclass
class Sample:
    """One process as last seen: its role, CPU seconds (user + system) and RSS series [(seconds, bytes)]."""

    role: str
    name: str
    cpu_first: float
    cpu_last: float
    born_inside: bool
    rss: list[tuple[float, int]] = field(default_factory=list)

    @property
    def cpu(self) -> float:
        return self.cpu_last - (0.0 if self.born_inside else self.cpu_first)


class Watch:
    """Samples ``groups()`` every ``interval`` seconds between ``start()`` and ``stop()`` (a daemon thread)."""

    def __init__(self, groups: Groups, interval: float = 0.5) -> None:
        self.groups, self.interval = groups, interval
        self.samples: dict[tuple[int, float], Sample] = {}
        self._handles: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started = self.stopped = 0.0

    def _sample(self, first: bool) -> None:
        now = time.monotonic() - self.started
        for pid, role in self.groups().items():
            process = self._handles.get(pid)
            try:
                if process is None or not process.is_running():
                    process = self._handles[pid] = psutil.Process(pid)
                with process.oneshot():
                    times = process.cpu_times()
                    rss = process.memory_info().rss
                    key = (pid, process.create_time())
                sample = self.samples.get(key)
                if sample is None:
                    cpu = times.user + times.system
                    name = " ".join(_cmdline(process)[:6]) or process.name()
                    sample = self.samples[key] = Sample(role, name, cpu, cpu, born_inside=not first)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            cpu = times.user + times.system
            sample.cpu_last = cpu
            sample.rss.append((now, rss))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample(first=False)

    def start(self) -> "Watch":
        self.started = time.monotonic()
        self._sample(first=True)
        self._thread = threading.Thread(target=self._loop, name="procstats", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> "Watch":
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample(first=False)
        self.stopped = time.monotonic()
        return self

    def __enter__(self) -> "Watch":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def seconds(self) -> float:
        return (self.stopped or time.monotonic()) - self.started

    def cpu_by_role(self) -> dict[str, float]:
        """CPU seconds spent per role while watched, highest first."""
        totals: dict[str, float] = {}
        for sample in self.samples.values():
            totals[sample.role] = totals.get(sample.role, 0.0) + sample.cpu
        return dict(sorted(totals.items(), key=lambda item: -item[1]))

    def long_running(self) -> list[Sample]:
        """Processes seen from the first sample to the last (the ones whose memory can trend)."""
        end = (self.stopped or time.monotonic()) - self.started
        return [s for s in self.samples.values()
                if not s.born_inside and s.rss and s.rss[-1][0] >= end - 2 * self.interval - 1]


def rss_at(sample: Sample, seconds: float) -> int:
    """The RSS of the sample nearest to ``seconds`` after the start."""
    return min(sample.rss, key=lambda point: abs(point[0] - seconds))[1]


def own_process() -> dict[int, str]:
    return {os.getpid(): "load generator"}
