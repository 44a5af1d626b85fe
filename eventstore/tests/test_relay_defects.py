"""Relay defects found in review (issue 11), each against real PostgreSQL and NATS with a fault injected
into the relay's own publishing: a lost publish, a row the server refuses, a slow mid-batch flush, a
session that fails right after connecting, an unexpected exception."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction

from eventstore import outbox
from eventstore.envelope import Envelope
from eventstore.models import OutboxMessage
from eventstore.relay import Batch, OutboxRow, Relay, RelayConfig, window
from eventstore.repository import Repository
from eventstore.tests.processes import stream_messages
from toyapp.contracts import CounterOpened
from toyapp.domain import Counter

pytestmark = [pytest.mark.nats, pytest.mark.django_db(transaction=True)]

repo = Repository(Counter)
CONFIG = RelayConfig(batch_size=256, poll_interval=0.2, publish_timeout=1.0, max_backoff=0.2, standby_poll=0.2)


def counter_with_versions(count: int) -> str:
    counter = Counter.open(str(uuid.uuid4()), "c", Decimal("0"))
    with transaction.atomic():
        repo.create(counter)
    for _ in range(count - 1):
        with transaction.atomic():
            counter = repo.load(counter.id)
            counter.increment(1)
            repo.save(counter)
    return counter.id


def all_published() -> bool:
    try:
        return not OutboxMessage.objects.filter(published_at__isnull=True).exists()
    finally:
        connection.close()


def stored_versions(stream: str) -> list[int]:
    return [Envelope.from_json(message.data).metadata["aggregate_version"]
            for message in stream_messages(settings.NATS_URL, stream)]


class FaultyRelay(Relay):
    """The real relay; ``fault(relay, row_index_in_batch, row, publish)`` may replace one publish."""

    def __init__(self, fault, config: RelayConfig = CONFIG) -> None:
        super().__init__(config)
        self.fault = fault

    async def _connect_nats(self) -> bool:
        connected = await super()._connect_nats()
        if connected:
            real_publish = self.nc.publish

            async def publish(subject, payload=b"", reply="", headers=None):
                replaced = self.fault(subject, payload, reply, headers, real_publish)
                if replaced is not None:
                    return await replaced
                return await real_publish(subject, payload, reply=reply, headers=headers)

            self.nc.publish = publish
        return connected


def run_until(relay: Relay, done, timeout: float = 20.0) -> None:
    async def scenario() -> None:
        running = asyncio.ensure_future(relay.run())
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while not await asyncio.to_thread(done):
                assert not running.done(), f"the relay ended: {running.exception() if running.done() else ''}"
                assert asyncio.get_running_loop().time() < deadline, "timed out"
                await asyncio.sleep(0.05)
        finally:
            relay.stop()
            await asyncio.wait_for(running, 10)

    asyncio.run(scenario())


def once_for(message_id: str, action):
    """A fault that applies ``action`` to the first publish of ``message_id`` only."""
    applied = []

    def fault(subject, payload, reply, headers, real_publish):
        if headers and headers.get("Nats-Msg-Id") == message_id and not applied:
            applied.append(True)
            return action(subject, payload, reply, headers, real_publish)
        return None

    return fault


async def _lost(*args) -> None:
    return None


def lost_publish(subject, payload, reply, headers, real_publish):
    return _lost()


def refused_by_the_server(subject, payload, reply, headers, real_publish):
    """Sent where no stream listens: the server answers the reply subject with a 503 (no responders)."""
    return real_publish("unstored." + subject, payload, reply=reply, headers=headers)


@pytest.mark.parametrize("fault", [lost_publish, refused_by_the_server], ids=["lost", "refused"])
def test_defect_1_relay_keeps_one_aggregates_versions_in_order_when_a_row_mid_window_fails_once(
        fresh_stream, fault):
    counter_with_versions(5)
    second = OutboxMessage.objects.order_by("position")[1]

    relay = FaultyRelay(once_for(str(second.message_id), fault))
    run_until(relay, all_published)

    assert stored_versions(fresh_stream) == [1, 2, 3, 4, 5]
    assert OutboxMessage.objects.get(pk=second.pk).attempts == 1


def _row(n: int) -> OutboxRow:
    return OutboxRow(position=n, message_id=str(n), subject="s", body=b"{}")


def test_defect_6_a_batch_is_answered_only_after_every_row_was_sent():
    async def scenario() -> None:
        batch = Batch(rows=[_row(1), _row(2), _row(3)], started=0.0, outcomes=[None] * 3)
        batch.sent = 2
        batch.answer(0, True)
        batch.answer(1, True)
        assert not batch.answered.is_set()
        batch.sent = 3
        batch.sending_finished()
        assert not batch.answered.is_set()
        batch.answer(2, True)
        assert batch.answered.is_set()

    asyncio.run(scenario())


def test_settle_records_the_acked_prefix_and_a_timeout_for_the_first_row_left_unanswered():
    async def scenario() -> None:
        relay = Relay(dataclasses.replace(CONFIG, publish_timeout=0.05))
        batch = Batch(rows=[_row(1), _row(2), _row(3)], started=0.0, outcomes=[None] * 3)
        batch.sent = 3
        batch.sending_finished()
        batch.answer(0, True)
        await relay._settle(batch)
        assert batch.acked == 1 and isinstance(batch.error, TimeoutError)
        assert str(batch.error) == "no JetStream ack within 0.05s"

        answered = Batch(rows=[_row(4)], started=0.0, outcomes=[None])
        answered.sent = 1
        answered.sending_finished()
        answered.answer(0, True)
        await relay._settle(answered)
        assert answered.acked == 1 and answered.error is None

    asyncio.run(scenario())


def slow_sending_with_a_late_tail(last_message_id: str):
    """Each publish takes a while (a large batch flushed in parts), so acks arrive while sending goes on;
    the last row reaches the server 0.3 s after it was handed to the client."""

    async def send(subject, payload, reply, headers, real_publish) -> None:
        await asyncio.sleep(0.05)
        if headers.get("Nats-Msg-Id") != last_message_id:
            await real_publish(subject, payload, reply=reply, headers=headers)
            return

        async def late() -> None:
            await asyncio.sleep(0.3)
            await real_publish(subject, payload, reply=reply, headers=headers)

        asyncio.ensure_future(late())

    return lambda subject, payload, reply, headers, real_publish: send(subject, payload, reply, headers, real_publish)


def test_defect_6_rows_acked_while_the_batch_is_still_being_sent_are_all_marked_without_a_timeout(fresh_stream):
    with transaction.atomic():
        for n in range(12):
            outbox.publish(CounterOpened(id=f"big-{n}", title="x" * 1000, limit=Decimal("0")))

    last = OutboxMessage.objects.order_by("position").last()
    run_until(FaultyRelay(slow_sending_with_a_late_tail(str(last.message_id))), all_published)

    assert not OutboxMessage.objects.filter(attempts__gt=0).exists()
    assert len(stream_messages(settings.NATS_URL, fresh_stream)) == 12


def test_defect_5_the_backoff_grows_when_a_session_fails_right_after_connecting():
    relay = Relay(dataclasses.replace(CONFIG, max_backoff=30))
    delays: list[float] = []

    async def failing_lock(conn) -> bool:
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    async def recorded_sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 4:
            relay.stop()

    relay._acquire_lock = failing_lock
    relay._sleep = recorded_sleep

    async def scenario() -> None:
        relay.stopping = asyncio.Event()
        await relay._serve()

    asyncio.run(scenario())
    assert delays == [0.25, 0.5, 1.0, 2.0]


def test_defect_5_an_unexpected_exception_is_logged_and_backed_off_instead_of_ending_the_relay(caplog):
    relay = Relay(CONFIG)
    calls: list[int] = []

    async def broken_active(conn) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("something the relay did not foresee")
        relay.stop()

    relay._active = broken_active

    async def scenario() -> None:
        relay.stopping = asyncio.Event()
        await relay._serve()

    asyncio.run(scenario())
    assert len(calls) == 2
    assert "KeyError" in caplog.text


def _aggregate_row(n: int, aggregate: str | None) -> OutboxRow:
    return OutboxRow(position=n, message_id=str(n), subject="s", body=b"{}", aggregate=aggregate)


def test_defect_1_a_window_holds_at_most_one_row_of_each_aggregate_and_ends_before_the_second():
    rows = [_aggregate_row(1, "t:a"), _aggregate_row(2, None), _aggregate_row(3, "t:b"), _aggregate_row(4, None),
            _aggregate_row(5, "t:a"), _aggregate_row(6, "t:c")]
    assert [row.position for row in window(rows)] == [1, 2, 3, 4]
    assert [row.position for row in window(rows[4:])] == [5, 6]
    assert window([]) == []


def test_defect_1_rows_of_many_aggregates_still_share_one_window(fresh_stream):
    for _ in range(30):
        counter_with_versions(1)
    relay = Relay(CONFIG)
    run_until(relay, all_published)
    assert relay.batches == 1
