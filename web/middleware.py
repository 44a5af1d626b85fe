"""Per-request context: correlation id, trace context, API path normalisation, one log line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from eventstore import context

logger = logging.getLogger("mallbots.request")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def loggable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x00`` …): a request path cannot forge log lines."""
    return _CONTROL.sub(lambda match: _ESCAPES.get(match.group(), f"\\x{ord(match.group()):02x}"), text)


def _uuid_or_none(value: str | None) -> str | None:
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/api/") and path.endswith("/") and len(path) > 5:
            request.path_info = path[:-1]
        request_id = str(uuid.uuid4())
        correlation_id = _uuid_or_none(request.headers.get("X-Correlation-ID")) or request_id
        ctx = context.MessageContext(
            correlation_id=correlation_id,
            causation_id=request_id,
            traceparent=context.child_traceparent(request.headers.get("traceparent", "")),
            tracestate=request.headers.get("tracestate", ""),
        )
        started = time.perf_counter()
        with context.use(ctx):
            response = self.get_response(request)
            response["X-Correlation-ID"] = correlation_id
            if logger.isEnabledFor(logging.INFO) and not path.startswith("/static/"):
                logger.info("%s %s %s %.1fms", request.method, loggable(path), response.status_code,
                            (time.perf_counter() - started) * 1000)
        return response
