"""The event loop of the long-running asyncio processes (relay, consumers, bot simulator, load tools).

uvloop (libuv) instead of asyncio's pure-Python selector loop: the same asyncio API, a fraction of the
cost per callback, socket read and timer, which is most of what a relay or a consumer does between two
database statements (ADR 28). uvicorn already serves the web tier on it.
"""

from __future__ import annotations

from typing import Any, Coroutine, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a new uvloop event loop, as ``asyncio.run`` does on asyncio's own."""
    return uvloop.run(main)
