"""HTTP scopes to the WSGI application on a thread pool, with one hand-off to the pool and one back (ADR 27).

``a2wsgi.WSGIMiddleware`` (ADR 23) runs each request on a pool thread too, but the thread hands every
response part to the event loop and waits for it: the status line, each body chunk and the end are three
or more cross-thread round trips per response, and the request body comes the same way. Here the loop
reads a request body of known, bounded length first, the thread runs Django and returns the whole
response, and the loop sends it: a request costs one ``run_in_executor`` and nothing else crosses
threads. The rest is as before: one pool thread from start to end of a request (its persistent database
connection, ADR 11), ``close()`` of the response (Django's ``request_finished``) on that thread, the
request's context variables copied into it.

Streaming stays streaming: a streaming response (``StreamingHttpResponse``, ``FileResponse``: anything not a
plain ``HttpResponse``) is sent chunk by chunk from the thread as a2wsgi does, and a request body without a
``Content-Length`` or larger than ``MAX_BUFFERED_BODY`` goes to a2wsgi's responder (it reads the body as the
application asks for it) on the same pool.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi.wsgi import WSGIResponder, build_environ

MAX_BUFFERED_BODY = 2 * 1024 * 1024
"""Bodies up to this size are read before the application runs (DATA_UPLOAD_MAX_MEMORY_SIZE is 1 MB)."""
SEND_QUEUE_SIZE = 10


def _content_length(scope: dict) -> int | None:
    """The request body's length; ``None`` when it is not known up front (chunked, or missing on a method
    that usually carries a body)."""
    length = None
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return None
    if length is None and scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return 0
    return length


class Exchange:
    """One request's WSGI call in the pool thread: ``start_response`` and the body, collected or streamed."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send) -> None:
        self.loop, self.send = loop, send
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.written: list[bytes] = []
        self.started = False

    def start_response(self, status: str, response_headers: list[tuple[str, str]], exc_info: Any = None):
        if exc_info is not None and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status = int(status.split(" ", 1)[0])
        self.headers = [(name.strip().encode("latin1").lower(), value.strip().encode("latin1"))
                        for name, value in response_headers]
        return self.written.append

    def _send_now(self, message: dict) -> None:
        asyncio.run_coroutine_threadsafe(self.send(message), self.loop).result()

    def run(self, app, environ: dict) -> bytes | None:
        """Call the application; the whole body for a plain response, else ``None`` once it was streamed."""
        iterable = app(environ, self.start_response)
        try:
            if getattr(iterable, "streaming", True) is False:
                return b"".join([*self.written, *iterable])
            self.started = True
            self._send_now({"type": "http.response.start", "status": self.status, "headers": self.headers})
            for chunk in [*self.written, *iterable]:
                if chunk:
                    self._send_now({"type": "http.response.body", "body": chunk, "more_body": True})
            self._send_now({"type": "http.response.body", "body": b""})
            return None
        finally:
            getattr(iterable, "close", lambda: None)()


class WSGIBridge:
    """The ``http`` application of the web tier: ``app`` (WSGI) on a pool of ``workers`` threads."""

    def __init__(self, app, workers: int) -> None:
        self.app = app
        self.executor = ThreadPoolExecutor(thread_name_prefix="WSGI", max_workers=max(1, workers))

    async def __call__(self, scope: dict, receive, send) -> None:
        length = _content_length(scope)
        if length is None or length > MAX_BUFFERED_BODY:
            await WSGIResponder(self.app, self.executor, SEND_QUEUE_SIZE)(scope, receive, send)
            return
        chunks, more = [], length > 0
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        environ = build_environ(scope, io.BytesIO(b"".join(chunks)))
        loop = asyncio.get_running_loop()
        exchange = Exchange(loop, send)
        context = contextvars.copy_context()
        body = await loop.run_in_executor(self.executor, context.run, exchange.run, self.app, environ)
        if body is None:
            return
        await send({"type": "http.response.start", "status": exchange.status, "headers": exchange.headers})
        await send({"type": "http.response.body", "body": body})
