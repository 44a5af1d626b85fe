"""OpenTelemetry for this process, chosen by ``TRACING_EXPORTER`` (ADR 22); called by ``MallbotsSiteConfig.ready``.

``none`` (the default) does nothing: no OpenTelemetry module is imported and the kernel makes no span.
``console`` prints each finished span as one JSON line on stdout (the process's log); ``otlp`` sends them in
batches over OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the exporter reads the standard ``OTEL_*``
variables). Either way:

- Django requests get a server span (the Django instrumentation; health and metrics URLs left out) that
  continues an incoming ``traceparent`` header;
- psycopg queries get client spans under the span they run in; a query outside any span (the relay's
  polling, the scheduler's) makes no trace of its own (the sampler drops root client spans);
- the kernel (``eventstore.tracing``) makes the relay's ``publish`` spans and the consumers' ``process``
  spans, and its message context names the current span as the ``traceparent`` of every message written.

The service name is ``OTEL_SERVICE_NAME`` if set, else derived from the command line: ``mallbots-web`` for
the web server, ``mallbots-run_relay``, ``mallbots-run_consumers-<modules>``, ``mallbots-<command>``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.conf import settings

EXCLUDED_URLS = "liveness,readiness,metrics,static/"
WEB_SERVERS = {"gunicorn", "daphne", "uvicorn"}


def service_name(argv: list[str]) -> str:
    if os.environ.get("OTEL_SERVICE_NAME"):
        return os.environ["OTEL_SERVICE_NAME"]
    program = Path(argv[0]).parent.name if argv and argv[0].endswith("__main__.py") else Path(argv[0] if argv else "").name
    if program in WEB_SERVERS:
        return "mallbots-web"
    if program == "manage.py" and len(argv) > 1:
        name = f"mallbots-{argv[1]}"
        if "--modules" in argv[2:-1]:
            name += "-" + argv[argv.index("--modules") + 1].replace(",", "-")
        return name
    return "mallbots"


def configure() -> bool:
    """Install the tracer provider, exporter and instrumentations for ``settings.TRACING_EXPORTER``;
    return whether tracing is on. Unknown exporter names raise ``ValueError``."""
    exporter_name = settings.TRACING_EXPORTER
    if exporter_name in ("", "none"):
        return False
    if exporter_name not in ("console", "otlp"):
        raise ValueError(f"TRACING_EXPORTER must be none, console or otlp, not {exporter_name!r}")

    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased

    from eventstore import tracing

    resource = Resource.create({"service.name": service_name(sys.argv), "process.pid": os.getpid()})
    provider = TracerProvider(resource=resource, sampler=ParentBased(root=_roots_but_queries()))
    if exporter_name == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(
            formatter=lambda span: span.to_json(indent=None) + os.linesep)))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _instrument()
    tracing.install(trace.get_tracer("mallbots"))
    return True


def _instrument() -> None:
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    if not DjangoInstrumentor().is_instrumented_by_opentelemetry:
        DjangoInstrumentor().instrument(excluded_urls=EXCLUDED_URLS)
    if not PsycopgInstrumentor().is_instrumented_by_opentelemetry:
        PsycopgInstrumentor().instrument(skip_dep_check=True)


def _roots_but_queries():
    """Root sampler: every root span except a client span (a query or call outside any request or message)."""
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
    from opentelemetry.trace import SpanKind

    class RootsButQueries(Sampler):
        def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None,
                          trace_state=None):
            if kind == SpanKind.CLIENT:
                return SamplingResult(Decision.DROP)
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

        def get_description(self) -> str:
            return "RootsButQueries"

    return RootsButQueries()
