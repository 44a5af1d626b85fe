"""The relay's database statement and its publishes overlap (ADR 30): the statement that marks the previous
batch and reads the next one is sent before the current batch's publishes, so the server runs it while the
relay publishes. Real PostgreSQL and NATS; the relay's read and publish are wrapped to record their order."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction

from eventstore import outbox
from eventstore.relay import MARK_DELAY_SECONDS
from eventstore.tests.processes import stream_messages
from eventstore.tests.test_relay_defects import CONFIG, FaultyRelay, all_published, run_until
from toyapp.contracts import CounterOpened

pytestmark = [pytest.mark.nats, pytest.mark.django_db(transaction=True)]


class RecordingRelay(FaultyRelay):
    """Records ``read`` when a read statement starts and ``publish`` for each publish, in the order they happen."""

    def __init__(self, config) -> None:
        self.steps: list[str] = []
        super().__init__(self._record_publish, config)

    def _record_publish(self, subject, payload, reply, headers, real_publish):
        self.steps.append("publish")
        return None

    async def _fetch(self, conn, exclude, mark=None):
        self.steps.append("read")
        return await super()._fetch(conn, exclude, mark)


def test_the_next_read_is_sent_before_the_batch_is_published_and_every_row_still_arrives_once(fresh_stream):
    with transaction.atomic():
        for n in range(12):
            outbox.publish(CounterOpened(id=f"overlap-{n}", title="t", limit=Decimal("0")))
    relay = RecordingRelay(dataclasses.replace(CONFIG, batch_size=5))

    run_until(relay, all_published)

    publishing = "".join("r" if step == "read" else "p" for step in relay.steps)
    assert publishing.startswith("rr" + "p" * 5 + "r" + "p" * 5), publishing
    assert len(stream_messages(settings.NATS_URL, fresh_stream)) == 12


class PlanRecordingRelay(FaultyRelay):
    """Records, after each read, the session's prepared statements as the server lists them."""

    def __init__(self, config) -> None:
        self.prepared: list[tuple] = []
        super().__init__(lambda *args: None, config)

    async def _fetch(self, conn, exclude, mark=None):
        result = await super()._fetch(conn, exclude, mark)
        cursor = await conn.execute("SELECT statement, parameter_types::text[], generic_plans, custom_plans"
                                    " FROM pg_prepared_statements WHERE statement LIKE '%%<> ALL%%'"
                                    " AND statement NOT LIKE '%%pg_prepared_statements%%'")
        self.prepared = await cursor.fetchall()
        return result


def test_the_relays_reads_are_planned_for_their_positions_which_travel_as_bigint_arrays(fresh_stream):
    """A generic plan would take the position arrays as parameters and cast and scan them for every row read
    (ADR 36); the server's own record of the prepared statements shows no generic plan and no cast array."""
    with transaction.atomic():
        for n in range(60):
            outbox.publish(CounterOpened(id=f"plans-{n}", title="t", limit=Decimal("0")))
    relay = PlanRecordingRelay(dataclasses.replace(CONFIG, batch_size=5))

    run_until(relay, all_published)

    assert relay.prepared, "the relay's read was never prepared"
    for statement, parameter_types, generic_plans, custom_plans in relay.prepared:
        assert generic_plans == 0 and custom_plans >= 1, statement
        assert [t for t in parameter_types if t.endswith("[]")] and all(
            t == "bigint[]" for t in parameter_types if t.endswith("[]")), parameter_types


class WaitRecordingRelay(FaultyRelay):
    """Records how long each wait for a notification was allowed to last."""

    def __init__(self, config) -> None:
        self.waits: list[float] = []
        super().__init__(lambda *args: None, config)

    async def _wait_for_notification(self, conn, seconds):
        self.waits.append(seconds)
        return await super()._wait_for_notification(conn, seconds)


def published_all_and_idled(relay: WaitRecordingRelay):
    return lambda: all_published() and CONFIG.poll_interval in relay.waits


def test_the_last_batch_of_a_backlog_is_marked_at_once_without_waiting_for_a_notification(fresh_stream):
    with transaction.atomic():
        for n in range(12):
            outbox.publish(CounterOpened(id=f"backlog-{n}", title="t", limit=Decimal("0")))
    relay = WaitRecordingRelay(dataclasses.replace(CONFIG, batch_size=5))

    run_until(relay, published_all_and_idled(relay))

    assert MARK_DELAY_SECONDS not in relay.waits, relay.waits


def test_a_lone_message_waits_for_a_notification_to_take_its_mark_along(fresh_stream):
    relay = WaitRecordingRelay(CONFIG)
    with transaction.atomic():
        outbox.publish(CounterOpened(id="trickle-1", title="t", limit=Decimal("0")))

    run_until(relay, published_all_and_idled(relay))

    assert MARK_DELAY_SECONDS in relay.waits, relay.waits
