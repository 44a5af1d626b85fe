"""The JSON API client of busywork: bearer token, JSON bodies (``Decimal`` both ways), one error type."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from devtools.http import TRANSPORT_ERRORS, Origin, Pool, encode_request


class RequestFailed(Exception):
    """A request that got no HTTP answer; ``kind`` is ``timeout`` or ``connection error (<exception>)``."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class Response:
    status: int
    body: Any

    @property
    def message(self) -> str:
        return str(self.body.get("message", "")) if isinstance(self.body, dict) else ""


class HttpClient:
    """Requests to the API under ``base_url`` over a keep-alive ``devtools.http.Pool``: at most
    ``max_connections`` in flight, each answer within ``timeout``; a GET on a reused connection that the
    server had closed is retried once. Bodies that are not JSON read as ``None``."""

    def __init__(self, base_url: str, token: str = "", *, timeout: float = 10.0, max_connections: int = 64) -> None:
        origin = Origin.of(base_url)
        self.prefix = origin.target.split("?", 1)[0].rstrip("/")
        self.netloc = origin.netloc
        self.headers = ["Accept: application/json"] + ([f"Authorization: Bearer {token}"] if token else [])
        self.pool = Pool(origin.host, origin.port, timeout=timeout, max_connections=max_connections)

    async def request(self, method: str, path: str, body: Any = None) -> Response:
        if body is None:
            data = encode_request(method, self.prefix + path, self.netloc, self.headers)
        else:
            data = encode_request(method, self.prefix + path, self.netloc,
                                  [*self.headers, "Content-Type: application/json"],
                                  json.dumps(body, default=_json_default).encode())
        try:
            answer = await self.pool.send(data, retry=method == "GET")
        except asyncio.TimeoutError:
            raise RequestFailed("timeout") from None
        except TRANSPORT_ERRORS as exc:
            raise RequestFailed(f"connection error ({type(exc).__name__})") from None
        return Response(answer.status, _json(answer.body))

    async def close(self) -> None:
        await self.pool.close()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_float=Decimal) if raw else None
    except ValueError:
        return None
