"""The web tier as ``run_all`` starts it (``mallbots_site.web``), for tests that talk HTTP and WebSocket to it.

Use inside a ``django_db(transaction=True)`` test: the workers attach to the test database and see only
committed rows.
"""

from __future__ import annotations

import contextlib
import re
import signal
from pathlib import Path
from typing import Iterator

from django.conf import settings

from devtools import processes as tools
from eventstore.tests import processes
from mallbots_site.web import http_server_argv, listening_socket


@contextlib.contextmanager
def web_tier(log_path: Path, *, workers: int = 1, **env) -> Iterator[str]:
    """Bind a free port like ``run_all``, start ``workers`` web workers on it, yield ``http://127.0.0.1:<port>``
    once every worker is up; on exit stop it with SIGTERM (graceful) and fail if it does not stop cleanly or
    a log line could not be formatted."""
    port = processes.free_port(settings.EMBEDDED_NATS_PORT + 400)
    sock = listening_socket("127.0.0.1", port)
    server = None
    try:
        server = tools.LoggedProcess(http_server_argv(sock.fileno(), workers), log_path,
                                     env=processes.subprocess_env(**env), pass_fds=(sock.fileno(),),
                                     start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        tools.wait_ready(base + "/liveness", [server])
        tools.wait_until(lambda: len(re.findall("Booting worker", log_path.read_text(errors="replace"))) >= workers,
                         30, "every web worker up", watch=[server])
        yield base
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0, log_path.read_text(errors="replace")
        assert "--- Logging error ---" not in log_path.read_text(errors="replace")
    finally:
        if server is not None and server.poll() is None:
            tools.stop(server)
        sock.close()
