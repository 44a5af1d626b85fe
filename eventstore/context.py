"""Who and what caused the current work: filled from the HTTP request or the consumed message.

The outbox copies it into the metadata of every message written while it is active.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import secrets
import uuid
from dataclasses import dataclass, replace
from typing import Iterator

from eventstore import tracing

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def new_traceparent(trace_id: str | None = None) -> str:
    return f"00-{trace_id or secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def child_traceparent(parent: str) -> str:
    """Same trace, new span: the W3C way of continuing a trace in another process.

    With tracing on, the span this work runs in (made a child of ``parent`` by whoever started it: the
    Django instrumentation for a request, ``messaging.handle`` for a consumed message).
    """
    active = tracing.current_traceparent()
    if active:
        return active
    match = _TRACEPARENT.match(parent or "")
    return new_traceparent(match.group(1) if match else None)


def valid_traceparent(value: str | None) -> bool:
    return bool(value and _TRACEPARENT.match(value))


@dataclass(frozen=True)
class MessageContext:
    correlation_id: str
    causation_id: str
    traceparent: str
    tracestate: str = ""
    actor: str = "system"

    def with_actor(self, actor: str) -> "MessageContext":
        return replace(self, actor=actor)


def new_context(actor: str = "system") -> MessageContext:
    """A fresh root context, e.g. for a scheduled job or a management command."""
    root = str(uuid.uuid4())
    return MessageContext(correlation_id=root, causation_id=root, traceparent=child_traceparent(""), actor=actor)


_current: contextvars.ContextVar[MessageContext | None] = contextvars.ContextVar("mallbots_context", default=None)


def current() -> MessageContext:
    ctx = _current.get()
    if ctx is None:
        ctx = new_context()
        _current.set(ctx)
    return ctx


def set_actor(actor: str) -> None:
    _current.set(current().with_actor(actor))


@contextlib.contextmanager
def use(ctx: MessageContext) -> Iterator[MessageContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def from_message(message_id: str, metadata: dict) -> MessageContext:
    """The context for work caused by a consumed message: same correlation, caused by that message."""
    return MessageContext(
        correlation_id=str(metadata.get("correlation_id") or message_id),
        causation_id=message_id,
        traceparent=child_traceparent(str(metadata.get("traceparent", ""))),
        tracestate=str(metadata.get("tracestate", "")),
        actor=str(metadata.get("actor") or "system"),
    )
