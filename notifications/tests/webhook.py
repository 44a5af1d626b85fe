"""A real HTTP SMS gateway for tests (``SMS_BACKEND=webhook``): records every POST and answers as told."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

CLOSE = "close"
"""An answer that reads the request and closes the connection without responding (outcome unknown)."""


class WebhookServer:
    """Listens on 127.0.0.1 (a free port). ``requests`` holds each POSTed JSON body in arrival order. Each
    request takes the next of ``answers`` (an HTTP status or ``CLOSE``; 200 once they run out); ``on_request``,
    if set, runs with the body after it is recorded and before the answer."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[int | str] = []
        self.on_request: Callable[[dict], None] | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/sms"

    def texts_to(self, number: str) -> list[str]:
        return [r["text"] for r in self.requests if r["to"] == number]

    def start(self) -> "WebhookServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                with gateway._lock:
                    gateway.requests.append(body)
                    answer = gateway.answers.pop(0) if gateway.answers else 200
                if gateway.on_request is not None:
                    gateway.on_request(body)
                if answer == CLOSE:
                    self.close_connection = True
                    return
                payload = b'{"ok": true}' if 200 <= answer < 300 else b'{"error": "refused by the test gateway"}'
                self.send_response(answer)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format, *args):
                pass

        return Handler
