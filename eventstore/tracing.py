"""Spans for the kernel's work, when the site turned tracing on (architecture.md §18, ADR 22).

Off by default: nothing here imports OpenTelemetry until ``install()`` is called (``mallbots_site.tracing``
does, in each process, when ``TRACING_EXPORTER`` is not ``none``); until then ``span()`` yields at once,
``current_traceparent()`` returns ``None`` and ``published()`` returns before touching its rows.

On, the trace context travels in the messages' metadata (events.md §3):

- the web request's span is made by the Django instrumentation; ``context`` names it as the
  ``traceparent`` of the request's work, so every outbox row written by the request carries it;
- the relay copies the row's ``traceparent`` into the NATS headers and records one ``publish`` span per
  message (``published``), a child of the row's ``traceparent``, from send to JetStream ack;
- the consumer makes one ``process`` span per handled message (``span(parent=<the message's
  traceparent>)``, in ``messaging.handle``); the messages its handler writes name that span, so the next
  command, reply or event continues the same trace.

One checkout is therefore one trace across web, relay and every consumer that takes part in it.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Iterable, Iterator

_tracer: Any = None
_trace: Any = None
_propagator: Any = None
_kinds: dict[str, Any] = {}


def install(tracer: Any) -> None:
    """Make spans with ``tracer`` (an OpenTelemetry ``Tracer``) from now on in this process."""
    global _tracer, _trace, _propagator
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _trace, _propagator = trace, TraceContextTextMapPropagator()
    _kinds.update(internal=SpanKind.INTERNAL, consumer=SpanKind.CONSUMER, producer=SpanKind.PRODUCER,
                  server=SpanKind.SERVER)
    _tracer = tracer


def uninstall() -> None:
    global _tracer
    _tracer = None


def active() -> bool:
    return _tracer is not None


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the span this work runs in, or ``None`` (tracing off, or no span)."""
    if _tracer is None:
        return None
    span_context = _trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{int(span_context.trace_flags):02x}"


def _parent(traceparent: str, tracestate: str = ""):
    carrier = {"traceparent": traceparent}
    if tracestate:
        carrier["tracestate"] = tracestate
    return _propagator.extract(carrier)


_OFF = contextlib.nullcontext()


def span(name: str, *, parent: str = "", tracestate: str = "", kind: str = "internal",
         attributes: dict[str, Any] | None = None) -> contextlib.AbstractContextManager:
    """A span for the enclosed work, current while it runs: a child of ``parent`` (a ``traceparent``) if
    given, else of the current span. Tracing off: one shared ``nullcontext`` (about 0.1 µs)."""
    if _tracer is None:
        return _OFF
    return _span(name, parent, tracestate, kind, attributes)


@contextlib.contextmanager
def _span(name: str, parent: str, tracestate: str, kind: str, attributes: dict[str, Any] | None) -> Iterator[None]:
    with _tracer.start_as_current_span(name, context=_parent(parent, tracestate) if parent else None,
                                       kind=_kinds[kind], attributes=attributes):
        yield


def published(rows: Iterable[Any], elapsed_seconds: float, stream: str) -> None:
    """One ``publish`` span per relayed row (``subject``, ``message_id``, ``traceparent``) that ended now
    after ``elapsed_seconds``; rows without a ``traceparent`` get none."""
    if _tracer is None:
        return
    end = time.time_ns()
    start = end - int(elapsed_seconds * 1e9)
    for row in rows:
        if not row.traceparent:
            continue
        item = _tracer.start_span(f"{row.subject} publish", context=_parent(row.traceparent), kind=_kinds["producer"],
                                  start_time=start, attributes={
                                      "messaging.system": "nats", "messaging.destination.name": row.subject,
                                      "messaging.message.id": row.message_id, "mallbots.stream": stream})
        item.end(end_time=end)
