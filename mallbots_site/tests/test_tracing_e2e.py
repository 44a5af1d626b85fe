"""One checkout is one trace across real processes (ADR 22): the web tier as ``run_all`` starts it, the relay
and one consumer process per module, each printing its spans with the console exporter into its log.

The checkout request carries a ``traceparent`` of the test's own; the test then reads every process's log
and checks that the web request, the relay's ``publish`` span of every message the checkout caused and the
``process`` span of every consumer that took one of them (their inbox rows) are in that one trace, and that
the spans form one tree under the test's parent.
"""

from __future__ import annotations

import json
import secrets
import sys
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection

from access.tokens import issue_token
from eventstore import messaging
from eventstore.tests import processes
from mallbots_site.tests.test_order_flow_e2e import Api
from mallbots_site.web import http_server_argv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.subprocess, pytest.mark.nats]


class TracedApi(Api):
    """``Api`` that also sends ``headers`` (the trace context of the test's own parent span)."""

    headers: dict[str, str] = {}

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json", **self.headers})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


def spans_in(logs: list[Path]) -> list[dict]:
    """Every span line (the console exporter's one-line JSON) of the given logs."""
    found = []
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith('{"name"'):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    pass
    return found


def service(span: dict) -> str:
    return span["resource"]["attributes"]["service.name"]


def caused_by(correlation_id: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(message ids written to the outbox, (consumer, message id) taken from the inbox) of one correlation."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT message_id::text FROM eventstore_outbox WHERE metadata->>'correlation_id' = %s",
                       [correlation_id])
        written = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT consumer, message_id::text FROM eventstore_inbox"
                       " WHERE metadata->>'correlation_id' = %s", [correlation_id])
        taken = [tuple(row) for row in cursor.fetchall()]
    return written, taken


@pytest.fixture
def traced_mall(fresh_stream, tmp_path):
    port = processes.free_port(18560)
    env = processes.subprocess_env(TRACING_EXPORTER="console")
    modules = sorted({d.module for d in messaging.durables()} - {"toy"})
    web = processes.ManagedProcess(http_server_argv(None, 1, bind=f"127.0.0.1:{port}"), env, tmp_path / "web.log")
    started = [web]
    try:
        started.append(processes.ManagedProcess([sys.executable, str(processes.MANAGE_PY), "run_relay"], env, tmp_path / "relay.log"))
        for module in modules:
            started.append(processes.ManagedProcess([sys.executable, str(processes.MANAGE_PY), "run_consumers", "--modules", module],
                                                    env, tmp_path / f"consumers-{module}.log"))
        processes.wait_until(lambda: processes.port_in_use(port), 60, "web server to listen")
        for process in started[2:]:
            process.wait_for_log("consumers started", timeout=60)
        user = User.objects.create_superuser("tracer", "tracer@example.com", "pw")
        yield TracedApi(f"http://127.0.0.1:{port}", issue_token("staff", user=user)[1]), [p.log_path for p in started], modules
    finally:
        for process in started:
            process.cleanup()


def test_given_console_tracing_when_a_checkout_runs_then_web_relay_and_every_consumer_share_its_trace(traced_mall):
    api, logs, modules = traced_mall
    store = api.ok("POST", "/api/stores", {"name": "Books", "location": "Level 1"})["id"]
    product = api.ok("POST", f"/api/stores/{store}/products", {"name": "Novel", "sku": "N", "price": 9.99})["id"]
    customer = api.ok("POST", "/api/customers", {"name": "Ann", "smsNumber": "555-0100"})["id"]
    basket = api.ok("POST", "/api/baskets", {"customerId": customer})["id"]
    processes.wait_until(lambda: api.call("PUT", f"/api/baskets/{basket}/addItem",
                                          {"productId": product, "quantity": 2})[0] == 200, 30, "product cached")
    payment = api.ok("POST", "/api/payments", {"customerId": customer, "amount": 100})["id"]

    trace_id, parent_id, correlation_id = secrets.token_hex(16), secrets.token_hex(8), str(uuid.uuid4())
    api.headers = {"traceparent": f"00-{trace_id}-{parent_id}-01", "X-Correlation-ID": correlation_id}
    assert api.ok("PUT", f"/api/baskets/{basket}/checkout", {"paymentId": payment}) == {}
    api.headers = {}
    assert api.wait_for_order(basket, final=("approved",))["status"] == "approved"

    def whole_trace():
        written, taken = caused_by(correlation_id)
        spans = [s for s in spans_in(logs) if s["context"]["trace_id"] == f"0x{trace_id}"]
        published = {s["attributes"].get("messaging.message.id") for s in spans if s["name"].endswith(" publish")}
        processed = {(s["attributes"].get("messaging.consumer.group.name"), s["attributes"].get("messaging.message.id"))
                     for s in spans if s["name"].endswith(" process")}
        complete = written and taken and set(written) <= published and set(taken) <= processed
        return (spans, written, taken) if complete else None

    spans, written, taken = processes.wait_until(whole_trace, 60, "every message of the checkout traced", interval=0.5)
    services = Counter(service(s) for s in spans)
    print(f"\ntrace {trace_id}: {len(spans)} spans, {len(written)} messages, {len(taken)} deliveries")
    for name, count in sorted(services.items()):
        print(f"  {name}: {count} spans")
    consumer_services = {f"mallbots-run_consumers-{consumer.split('-')[0]}" for consumer, _ in taken}
    assert {"mallbots-web", "mallbots-run_relay"} | consumer_services <= set(services)
    assert {"mallbots-run_consumers-" + m for m in ("ordering", "customers", "depot", "payments")} <= consumer_services

    ids = {s["context"]["span_id"] for s in spans}
    roots = [s for s in spans if s["parent_id"] not in ids]
    assert [(service(s), s["kind"], s["parent_id"]) for s in roots] == [
        ("mallbots-web", "SpanKind.SERVER", f"0x{parent_id}")]
    by_id = {s["context"]["span_id"]: s for s in spans}
    for span in spans:
        if span["name"].endswith(" process"):
            assert by_id[span["parent_id"]]["kind"] in ("SpanKind.SERVER", "SpanKind.CONSUMER")
    Path(logs[0].parent / "trace.jsonl").write_text("\n".join(json.dumps(s) for s in spans))
