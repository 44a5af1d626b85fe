"""Issue 13, finding 2: one row that can never be published no longer stops the outbox (ADR 20).

Before, a 1.2 MB row failed with ``MaxPayloadError`` on every attempt and every row behind it waited
forever. Now a permanent failure dead-letters the row (visible and retryable in the admin, counted in the
metrics and the lag check) and the relay goes on; transient failures are still retried from the same row.
Against real PostgreSQL and NATS, with the in-process relay harness of ``test_relay_defects``.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from nats.errors import MaxPayloadError
from nats.js.errors import APIError, NoStreamResponseError, ServiceUnavailableError

from eventstore import nats as mallbots_nats
from eventstore import tasks
from eventstore.envelope import Envelope
from eventstore.metrics import collect_registry
from eventstore.models import OutboxMessage
from eventstore.relay import OutboxRow, PayloadTooLarge, Relay, is_permanent
from eventstore.repository import Repository
from eventstore.tests.processes import stream_messages
from eventstore.tests.test_relay_defects import CONFIG, run_until
from toyapp.domain import Counter

pytestmark = [pytest.mark.nats, pytest.mark.django_db(transaction=True)]

repo = Repository(Counter)


def open_counter(title: str, increments: int = 0) -> str:
    counter = Counter.open(str(uuid.uuid4()), title, Decimal("0"))
    with transaction.atomic():
        repo.create(counter)
    for _ in range(increments):
        with transaction.atomic():
            counter = repo.load(counter.id)
            counter.increment(1)
            repo.save(counter)
    return counter.id


def nothing_left() -> bool:
    try:
        return not OutboxMessage.objects.filter(published_at__isnull=True, dead_lettered_at__isnull=True).exists()
    finally:
        connection.close()


def stored(stream: str) -> list[tuple[str, int]]:
    return [(envelope.payload["id"], envelope.metadata["aggregate_version"])
            for envelope in (Envelope.from_json(m.data) for m in stream_messages(settings.NATS_URL, stream))]


def opened_row(counter_id: str) -> OutboxMessage:
    return OutboxMessage.objects.get(name="toyapi.CounterOpened", payload__id=counter_id)


def published(counter_id: str) -> bool:
    """Whether the counter's opening row is marked published; for ``run_until``'s thread, whose connection it closes."""
    try:
        return opened_row(counter_id).published_at is not None
    finally:
        connection.close()


def test_a_row_larger_than_the_servers_max_payload_is_dead_lettered_and_the_rows_behind_it_flow(
        fresh_stream, caplog):
    before = open_counter("before")
    huge = open_counter("x" * 1_200_000, increments=1)
    after = open_counter("after")

    with caplog.at_level(logging.ERROR, logger="mallbots.relay"):
        run_until(Relay(CONFIG), nothing_left)

    dead = opened_row(huge)
    assert dead.dead_lettered_at is not None and dead.published_at is None and dead.attempts == 1
    assert "max_payload" in dead.last_error
    assert stored(fresh_stream) == [(before, 1), (huge, 2), (after, 1)]
    assert any("dead-lettered" in record.getMessage() for record in caplog.records)


@pytest.fixture
def small_stream_messages(fresh_stream, monkeypatch):
    """The stream refuses messages over 4 KiB (JetStream ``max_msg_size``) until the fixture ends."""
    real = mallbots_nats.stream_config
    monkeypatch.setattr(mallbots_nats, "stream_config",
                        lambda: dataclasses.replace(real(), max_msg_size=4096))
    yield fresh_stream
    monkeypatch.undo()
    call_command("ensure_stream")


def test_a_row_jetstream_refuses_for_its_size_is_dead_lettered_and_retried_from_the_admin(
        small_stream_messages, client):
    before = open_counter("before")
    big = open_counter("y" * 8000)
    after = open_counter("after", increments=1)

    run_until(Relay(CONFIG), nothing_left)

    dead = opened_row(big)
    assert dead.dead_lettered_at is not None and "message size exceeds maximum allowed" in dead.last_error
    assert stored(small_stream_messages) == [(before, 1), (after, 1), (after, 2)]

    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    listed = client.get("/admin/eventstore/outboxmessage/?status=dead-lettered")
    assert listed.status_code == 200 and list(listed.context["cl"].result_list) == [dead]
    registry = collect_registry()
    assert registry.get_sample_value("mallbots_outbox_dead_lettered") == 1
    assert registry.get_sample_value("mallbots_outbox_unpublished") == 0
    assert tasks.check_lag(jetstream=False)["outbox_dead_lettered"] == 1

    client.post("/admin/eventstore/outboxmessage/", {"action": "retry", "_selected_action": [str(dead.pk)]})
    dead.refresh_from_db()
    assert dead.dead_lettered_at is None


def test_a_retried_row_is_published_once_the_limit_allows_it(fresh_stream):
    big = open_counter("z" * 8000)
    OutboxMessage.objects.filter(pk=opened_row(big).pk).update(dead_lettered_at="2026-01-01T00:00:00Z",
                                                               last_error="APIError: message size exceeds")
    run_until(Relay(CONFIG), nothing_left)
    assert stored(fresh_stream) == []
    OutboxMessage.objects.filter(pk=opened_row(big).pk).update(dead_lettered_at=None)
    run_until(Relay(CONFIG), lambda: nothing_left() and published(big))
    assert stored(fresh_stream) == [(big, 1)]


@pytest.mark.parametrize("error,permanent", [
    (MaxPayloadError(), True),
    (PayloadTooLarge(2_000_000, 1_048_576), True),
    (APIError(code=400, err_code=10054, description="message size exceeds maximum allowed"), True),
    (APIError(code=400, err_code=10097, description="header size exceeds maximum allowed of 64k"), True),
    (NoStreamResponseError(), False),
    (ServiceUnavailableError(code=503, description="no responders"), False),
    (APIError(code=500, err_code=10077, description="stream store failed"), False),
    (TimeoutError("no JetStream ack within 1s"), False),
    (ConnectionResetError(), False),
    (None, False),
], ids=["max-payload", "too-large", "js-size", "js-header", "no-stream", "503", "store-failed", "timeout",
        "reset", "none"])
def test_only_failures_no_retry_can_cure_are_permanent(error, permanent):
    assert is_permanent(error) is permanent


def test_a_transient_refusal_is_retried_from_the_same_row_not_dead_lettered(fresh_stream):
    from eventstore.tests.test_relay_defects import FaultyRelay, once_for, refused_by_the_server

    counter = open_counter("c", increments=2)
    second = OutboxMessage.objects.filter(payload__id=counter).order_by("position")[1]
    run_until(FaultyRelay(once_for(str(second.message_id), refused_by_the_server)), nothing_left)
    second.refresh_from_db()
    assert second.published_at is not None and second.dead_lettered_at is None and second.attempts == 1
    assert stored(fresh_stream) == [(counter, 1), (counter, 2), (counter, 3)]


@pytest.mark.parametrize("traceparent", ["", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
def test_a_rows_wire_size_is_its_body_and_header_block_as_sent(traceparent):
    record = (7, str(uuid.uuid4()), "toyapi.CounterOpened", "mallbots.toy.events.Counter", '{"id":"c"}',
              '{"actor":"system"}', "2026-12-01T00:00:00+00:00", "toy.Counter:c", traceparent)
    row = OutboxRow.from_db(record)
    block = b"NATS/1.0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in row.headers.items()) + b"\r\n"
    assert row.wire_size == len(row.body) + len(block)
    assert ("traceparent" in row.headers) == bool(traceparent)
    assert Envelope.from_json(row.body).subject == "mallbots.toy.events.Counter"
