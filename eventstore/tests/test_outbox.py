"""Outbox writer: envelope metadata, context propagation and the NOTIFY wake-up."""

import uuid

import psycopg
import pytest
from django.db import connection, transaction

from eventstore import context
from eventstore.envelope import Envelope
from eventstore.models import OutboxMessage
from eventstore.repository import Repository
from toyapp.domain import Counter

repo = Repository(Counter)


def capture_rows():
    return list(OutboxMessage.objects.order_by("position"))


@pytest.mark.django_db
def test_event_handler_writes_integration_event_with_full_metadata():
    ctx = context.MessageContext(correlation_id=str(uuid.uuid4()), causation_id="req-1",
                                 traceparent=context.new_traceparent(), actor="kiosk:north")
    counter = Counter.open(str(uuid.uuid4()), "meta")
    with context.use(ctx), transaction.atomic():
        repo.create(counter)
    [row] = capture_rows()
    assert (row.name, row.subject) == ("toyapi.CounterOpened", "mallbots.toy.events.Counter")
    assert row.payload == {"id": counter.id, "title": "meta", "limit": 0}
    meta = row.metadata
    assert meta["correlation_id"] == ctx.correlation_id
    assert meta["causation_id"] == "req-1"
    assert meta["traceparent"] == ctx.traceparent
    assert meta["actor"] == "kiosk:north"
    assert (meta["aggregate_type"], meta["aggregate_id"], meta["aggregate_version"]) == ("toy.Counter", counter.id, 1)
    assert meta["occurred_at"].endswith("Z")


def test_consumed_message_context_keeps_correlation_and_trace():
    parent = context.new_traceparent()
    ctx = context.from_message("m-1", {"correlation_id": "c-1", "traceparent": parent, "actor": "bot:b1"})
    assert (ctx.correlation_id, ctx.causation_id, ctx.actor) == ("c-1", "m-1", "bot:b1")
    assert ctx.traceparent.split("-")[1] == parent.split("-")[1]
    assert ctx.traceparent != parent


def test_envelope_round_trip_and_malformed_input():
    from eventstore.envelope import MalformedMessage

    env = Envelope(id="1", name="toyapi.CounterIncremented", subject="s", payload={"id": "x", "by": 2},
                   metadata={}, sent_at="t")
    assert Envelope.from_json(env.to_json()) == env
    assert env.message().by == 2
    for bad in (b"not json", b"[]", b'{"id": 1}'):
        with pytest.raises(MalformedMessage):
            Envelope.from_json(bad)


@pytest.mark.django_db(transaction=True)
def test_committed_outbox_insert_wakes_a_listen_connection():
    params = connection.get_connection_params()
    listener = psycopg.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")},
                               autocommit=True)
    try:
        listener.execute("LISTEN mallbots_outbox")
        with transaction.atomic():
            repo.create(Counter.open(str(uuid.uuid4()), "wake"))
            assert not list(listener.notifies(timeout=0.2, stop_after=1))
        notes = list(listener.notifies(timeout=5, stop_after=1))
        assert [n.channel for n in notes] == ["mallbots_outbox"]
    finally:
        listener.close()
