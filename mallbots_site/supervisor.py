"""Run child processes with prefixed output, restart on exit with backoff, stop them cleanly."""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

logger = logging.getLogger("mallbots.supervisor")

RESTART_BACKOFF_SECONDS = 2.0
MAX_EXITS_PER_MINUTE = 5


@dataclass
class Child:
    name: str
    argv: list[str]
    pass_fds: tuple[int, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    exits: collections.deque = field(default_factory=lambda: collections.deque(maxlen=MAX_EXITS_PER_MINUTE))
    restart_at: float | None = None
    given_up: bool = False


class Supervisor:
    def __init__(self, children: list[Child], env: dict[str, str], shutdown_timeout: float = 30.0):
        self.children = children
        self.env = env
        self.shutdown_timeout = shutdown_timeout
        self.stopping = threading.Event()
        self.width = max(len(child.name) for child in children)

    def _pump(self, child: Child, stream) -> None:
        """Copy the child's output, each line prefixed with its name: what one read returns (every complete
        line in the pipe) goes out in one write, a partial line waits for its end."""
        prefix = f"{child.name:<{self.width}} | ".encode()
        fd, pending = stream.fileno(), b""
        while chunk := os.read(fd, 65536):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            if lines:
                sys.stdout.buffer.write(b"".join(prefix + line + b"\n" for line in lines))
                sys.stdout.buffer.flush()
        if pending:
            sys.stdout.buffer.write(prefix + pending + b"\n")
            sys.stdout.buffer.flush()

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv, env={**self.env, **child.env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=child.pass_fds, start_new_session=True,
        )
        threading.Thread(target=self._pump, args=(child, child.process.stdout), daemon=True).start()
        logger.info("started %s (pid %s)", child.name, child.process.pid)

    def run(self) -> None:
        """Start every child and watch them until SIGINT/SIGTERM, then stop them all."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                self.start(child)
            while not self.stopping.is_set():
                self._watch()
                self.stopping.wait(0.2)
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _watch(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.given_up:
                continue
            if child.process is not None and child.process.poll() is not None:
                code = child.process.returncode
                child.process = None
                child.exits.append(now)
                if len(child.exits) == MAX_EXITS_PER_MINUTE and now - child.exits[0] < 60:
                    child.given_up = True
                    logger.error("%s exited %s times within a minute; giving up", child.name, MAX_EXITS_PER_MINUTE)
                    continue
                logger.warning("%s exited with %s; restarting in %.0fs", child.name, code, RESTART_BACKOFF_SECONDS)
                child.restart_at = now + RESTART_BACKOFF_SECONDS
            if child.process is None and child.restart_at is not None and now >= child.restart_at:
                child.restart_at = None
                self.start(child)

    def _on_signal(self, signum, frame) -> None:
        self.stopping.set()

    def stop(self) -> None:
        """SIGTERM to each child's main process (it stops its own workers), SIGKILL to its group on timeout."""
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        for child in running:
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.shutdown_timeout
        for child in running:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", child.name)
                try:
                    os.killpg(child.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                child.process.wait()
