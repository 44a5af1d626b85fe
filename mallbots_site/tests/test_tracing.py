"""Tracing (ADR 22): off by default; on, a checkout's messages and the consumers' spans form one trace.

In-process here (``deliver_all`` runs the same ``messaging.handle`` as the consumer runner); across real
processes with the console exporter in ``test_tracing_e2e``.
"""

from __future__ import annotations

import logging
import os
from decimal import Decimal

import pytest
from gunicorn import glogging

from baskets import services as baskets
from customers import services as customers
from eventstore import context, tracing
from eventstore.models import OutboxMessage
from eventstore.testing import deliver_all
from mallbots_site import tracing as site_tracing
from mallbots_site.logging import ContextFilter
from payments import services as payments
from stores import services as stores


@pytest.fixture
def spans():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider.get_tracer("test"))
    try:
        yield exporter
    finally:
        tracing.uninstall()


def trace_id(traceparent: str) -> str:
    return traceparent.split("-")[1]


def test_tracing_is_off_by_default_and_then_makes_no_span_and_keeps_the_w3c_context():
    assert not tracing.active() and tracing.current_traceparent() is None
    with tracing.span("nothing", parent=context.new_traceparent()):
        assert tracing.current_traceparent() is None
    parent = context.new_traceparent()
    child = context.child_traceparent(parent)
    assert context.valid_traceparent(child) and trace_id(child) == trace_id(parent) and child != parent


@pytest.mark.parametrize("argv, name", [
    (["/venv/lib/python3.11/site-packages/gunicorn/__main__.py", "--bind", "fd://3"], "mallbots-web"),
    (["/srv/manage.py", "run_relay"], "mallbots-run_relay"),
    (["/srv/manage.py", "run_consumers", "--modules", "ordering"], "mallbots-run_consumers-ordering"),
    (["/srv/manage.py", "qcluster"], "mallbots-qcluster"),
])
def test_each_process_names_its_service_from_its_command_line(argv, name, monkeypatch):
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    assert site_tracing.service_name(argv) == name


def test_an_unknown_exporter_is_refused(settings):
    settings.TRACING_EXPORTER = "zipkin"
    with pytest.raises(ValueError, match="none, console or otlp"):
        site_tracing.configure()


def test_log_records_carry_the_correlation_trace_and_span_ids_of_the_work():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    ctx = context.new_context()
    with context.use(ctx):
        ContextFilter().filter(record)
    assert (record.correlation_id, record.trace_id, record.span_id) == (
        ctx.correlation_id, *ctx.traceparent.split("-")[1:3])


@pytest.mark.django_db
def test_given_tracing_on_when_a_checkout_runs_through_the_consumers_then_every_message_and_span_is_one_trace(spans):
    store_id = stores.create_store(name="Books", location="Level 1")
    product_id = stores.add_product(store_id=store_id, name="Novel", description="", sku="N", price=Decimal("9.99"))
    customer_id = customers.register_customer(name="Ann", sms_number="555-0100")
    payment_id = payments.authorize_payment(customer_id=customer_id, amount=Decimal("50"))
    deliver_all()
    basket_id = baskets.start_basket(customer_id=customer_id)
    baskets.add_item(basket_id=basket_id, product_id=product_id, quantity=2)
    first = OutboxMessage.objects.order_by("-position").first().position
    spans.clear()

    with tracing.span("PUT /api/baskets/{id}/checkout", kind="server"):
        request_span = tracing.current_traceparent()
        with context.use(context.MessageContext(correlation_id="c", causation_id="c",
                                                traceparent=context.child_traceparent(""))):
            baskets.checkout_basket(basket_id=basket_id, payment_id=payment_id)
    deliver_all()

    rows = list(OutboxMessage.objects.filter(position__gt=first).order_by("position"))
    assert {row.name for row in rows} >= {"basketsapi.BasketCheckedOut", "ordersapi.OrderCreated",
                                          "ordersapi.OrderApproved", "am.Success"}
    assert {trace_id(row.metadata["traceparent"]) for row in rows} == {trace_id(request_span)}
    assert rows[0].metadata["traceparent"] == request_span

    finished = spans.get_finished_spans()
    processed = [s for s in finished if s.name.endswith(" process")]
    ids = {s.context.span_id for s in finished}
    assert {s.attributes["messaging.consumer.group.name"].split("-")[0] for s in processed} >= {
        "ordering", "customers", "depot", "payments"}
    assert {s.context.trace_id for s in finished} == {int(trace_id(request_span), 16)}
    assert [s.name for s in finished if s.parent is None or s.parent.span_id not in ids] == [
        "PUT /api/baskets/{id}/checkout"]
    by_message = {s.attributes["messaging.message.id"]: s for s in processed}
    for row in rows[1:]:
        cause = by_message.get(row.metadata["causation_id"])
        assert cause is not None and row.metadata["traceparent"].split("-")[2] == f"{cause.context.span_id:016x}"


def test_log_records_skip_the_caller_and_thread_fields_no_format_prints():
    assert (logging._srcfile, logging.logThreads, logging.logProcesses, logging.logMultiprocessing) == \
        (None, False, True, False)
    captured = []
    handler = logging.Handler()
    handler.emit = captured.append
    logger = logging.getLogger("mallbots.test.fields")
    logger.addHandler(handler)
    try:
        logger.warning("where from?")
    finally:
        logger.removeHandler(handler)
    assert (captured[0].funcName, captured[0].thread, captured[0].process) == ("(unknown function)", None, os.getpid())


def test_gunicorn_formats_the_web_workers_lines():
    """The web workers' uvicorn lines go through gunicorn's handlers, whose format prints the process id."""
    record = logging.getLogger("uvicorn.error").makeRecord("uvicorn.error", logging.INFO, __file__, 0,
                                                           "Started server process [%d]", (os.getpid(),), None)
    line = logging.Formatter(glogging.Logger.error_fmt, glogging.Logger.datefmt).format(record)
    assert line.endswith(f"[{os.getpid()}] [INFO] Started server process [{os.getpid()}]")
