"""The load tools' HTTP/1.1 client on asyncio streams: keep-alive, plain HTTP, nothing else.

``bench.loadgen`` drives one ``Connection`` per simulated client with a request encoded once;
``busywork`` sends through a ``Pool``. Not httpx: on this 2-core box the load generator shares the CPU
with the server it measures, and httpx spent about 20 times the client CPU per request (ADR 16).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urlsplit

IDLE_SECONDS = 4.0
"""Below the 5 s after which uvicorn closes an idle keep-alive connection: a reused connection is never one the
server is closing at that moment (a POST sent on it would fail with a reset and could not be retried)."""
TRANSPORT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)
"""What a refused, broken or closed connection or a malformed answer raises (a timeout is an ``OSError``)."""


@dataclass(frozen=True)
class Origin:
    """Where requests go: ``host``/``port`` to connect to, ``netloc`` for the Host header, ``target``
    (the URL's path and query, ``/`` for none)."""

    host: str
    port: int
    netloc: str
    target: str

    @classmethod
    def of(cls, url: str) -> "Origin":
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"URL must be http://host[:port][/path], not {url!r}")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.hostname, parts.port or 80, parts.netloc, target)


def encode_request(method: str, target: str, netloc: str, headers: Iterable[str] = (), body: bytes = b"") -> bytes:
    """One keep-alive request with ``Content-Length`` (0 without a body); ``headers`` as ``"Name: value"``."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {netloc}", "Connection: keep-alive",
             f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass(slots=True)
class Answer:
    status: int
    body: bytes
    keep_alive: bool


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """Read one response: a ``Content-Length`` or chunked body, none for 1xx/204/304, else up to EOF.

    ``keep_alive`` is false after ``Connection: close``, for HTTP/1.0 without ``Connection: keep-alive``
    and after a body read up to EOF.
    """
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, status = head[0].split(" ", 2)[:2]
    headers = {}
    for line in head[1:]:
        key, colon, value = line.partition(":")
        if colon:
            headers[key.strip().lower()] = value.strip()
    code = int(status)
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" and (version != "HTTP/1.0" or connection == "keep-alive")
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunks.append((await reader.readexactly(size + 2))[:-2])
            if size == 0:
                break
        body = b"".join(chunks)
    elif code in (204, 304) or 100 <= code < 200:
        body = b""
    else:
        body, keep_alive = await reader.read(), False
    return Answer(code, body, keep_alive)


class Connection:
    """One connection; ``exchange`` writes a request and reads its answer (no timeout of its own)."""

    __slots__ = ("reader", "writer", "idle_since")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.idle_since = reader, writer, 0.0

    @classmethod
    async def open(cls, host: str, port: int) -> "Connection":
        return cls(*await asyncio.open_connection(host, port))

    async def exchange(self, request: bytes) -> Answer:
        self.writer.write(request)
        return await read_answer(self.reader)

    def close(self) -> None:
        self.writer.close()

    async def wait_closed(self) -> None:
        try:
            await self.writer.wait_closed()
        except OSError:
            pass


class Pool:
    """Keep-alive connections to one host: at most ``max_connections`` requests in flight, idle
    connections reused (the latest first; one idle for ``IDLE_SECONDS`` or closed by the server is
    dropped). Each connect and each answer is bounded by ``timeout`` (``asyncio.TimeoutError``). With
    ``retry``, a request that fails on a reused connection (the server may have closed it meanwhile) is
    sent once more on a new one."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0, max_connections: int = 64) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._idle: list[Connection] = []
        self._slots = asyncio.Semaphore(max_connections)

    async def send(self, request: bytes, *, retry: bool = False) -> Answer:
        async with self._slots:
            return await self._exchange(request, retry)

    async def _exchange(self, request: bytes, retry: bool) -> Answer:
        connection, reused = await self._connection()
        try:
            answer = await asyncio.wait_for(connection.exchange(request), self.timeout)
        except (OSError, asyncio.IncompleteReadError):
            connection.close()
            if reused and retry:
                return await self._exchange(request, retry=False)
            raise
        except BaseException:
            connection.close()
            raise
        if answer.keep_alive:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()
        return answer

    async def _connection(self) -> tuple[Connection, bool]:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.idle_since < IDLE_SECONDS and not connection.reader.at_eof():
                return connection, True
            connection.close()
        return await asyncio.wait_for(Connection.open(self.host, self.port), self.timeout), False

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        for connection in idle:
            await connection.wait_closed()
