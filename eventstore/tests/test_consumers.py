"""The consumer runner as a real process against real PostgreSQL and NATS (architecture.md §8, quality.md §2)."""

import signal
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from eventstore.models import DeadLetter, InboxMessage
from eventstore.tests.crashing import CONSUMER_EXIT_STATUS
from eventstore.tests.consumer_support import (DatabaseCable, handled_count, increments, outcomes, publish, publish_raw,
                                               run_consumers, tally)
from eventstore.tests.processes import run_async, wait_until
from toyapp.models import Fault, Tally

pytestmark = [pytest.mark.nats, pytest.mark.subprocess, pytest.mark.django_db(transaction=True)]


def test_given_a_crash_after_commit_before_ack_when_restarted_then_redelivery_is_recognised_by_the_inbox(
        fresh_stream, tmp_path):
    counter_id, [message] = increments(5)
    publish(message)
    with run_consumers(tmp_path, name="crashing", crash="consumer-after-commit") as crashing:
        assert crashing.wait(20) == CONSUMER_EXIT_STATUS
    assert handled_count(counter_id) == 1
    with run_consumers(tmp_path) as consumers:
        log = consumers.wait_for_log(rf"message_id={message.id} outcome=duplicate", timeout=20)
    assert outcomes(log, message.id) == ["duplicate"]
    assert (tally(counter_id).total, tally(counter_id).handled) == (5, 1)
    assert InboxMessage.objects.filter(consumer="toy-counters", message_id=message.id).count() == 1


def test_given_a_handler_failing_twice_when_consumed_then_it_succeeds_once_after_the_backoff(fresh_stream, tmp_path):
    Fault.objects.create(durable="toy-counters", fail_first_deliveries=2)
    counter_id, [message] = increments(7)
    with run_consumers(tmp_path) as consumers:
        consumers.wait_for_log("consuming mallbots.toy.events.Counter")
        published = time.monotonic()
        publish(message)
        log = consumers.wait_for_log(rf"message_id={message.id} outcome=handled", timeout=20)
        elapsed = time.monotonic() - published
    assert outcomes(log, message.id) == ["retry", "retry", "handled"]
    assert elapsed >= 0.4
    assert (tally(counter_id).total, tally(counter_id).handled) == (7, 1)
    assert not DeadLetter.objects.exists()


def test_given_a_handler_that_always_fails_then_dead_letter_after_max_deliveries_and_replay_after_the_fix(
        fresh_stream, tmp_path):
    Fault.objects.create(durable="toy-counters", always_fail=True)
    counter_id, [failing] = increments(2)
    publish(failing)
    with run_consumers(tmp_path) as consumers:
        dead = wait_until(lambda: DeadLetter.objects.filter(message_id=failing.id).first(), 20, "the dead letter")
        assert (dead.consumer, dead.name, dead.deliveries) == ("toy-counters", "toyapi.CounterIncremented", 3)
        assert dead.error["type"] == "RuntimeError" and dead.error["text"] == "toy fault on delivery 3"
        assert "Traceback" in dead.error["traceback"]
        assert dead.payload == failing.payload and dead.replayed_at is None
        Fault.objects.filter(durable="toy-counters").update(always_fail=False)
        later_id, [later] = increments(3)
        publish(later)
        wait_until(lambda: handled_count(later_id) == 1, 20, "the later message")
        log = consumers.wait_for_log(rf"message_id={failing.id} outcome=dead-lettered")
    assert outcomes(log, failing.id) == ["retry", "retry", "dead-lettered"]
    assert tally(counter_id) is None

    call_command("replay_dead_letters", "--consumer", "toy-counters")
    dead.refresh_from_db()
    assert dead.replayed_at is not None and dead.replay_count == 1
    assert (tally(counter_id).total, tally(counter_id).handled) == (2, 1)
    call_command("replay_dead_letters", "--id", str(dead.pk), "--all")
    dead.refresh_from_db()
    assert dead.replay_count == 2 and tally(counter_id).handled == 1


def test_given_a_poison_message_when_it_fails_then_later_messages_on_the_same_durable_keep_flowing(
        fresh_stream, tmp_path):
    poison_id, [poison] = increments(2 ** 40)
    healthy_id, healthy = increments(1, 1, 1)
    publish(poison, *healthy)
    with run_consumers(tmp_path) as consumers:
        wait_until(lambda: handled_count(healthy_id) == 3, 20, "the healthy messages")
        dead = wait_until(lambda: DeadLetter.objects.filter(message_id=poison.id).first(), 20, "the dead letter")
        consumers.wait_for_log(rf"message_id={poison.id} outcome=dead-lettered")
    assert dead.error["type"] == "DataError" and dead.deliveries == 3
    assert tally(poison_id) is None and tally(healthy_id).total == 3


def test_given_an_unparseable_message_then_it_is_dead_lettered_at_once_and_the_consumer_continues(
        fresh_stream, tmp_path):
    counter_id, [after] = increments(4)
    publish_raw(b"this is not an envelope", message_id="garbage-1")
    publish(after)
    with run_consumers(tmp_path) as consumers:
        wait_until(lambda: handled_count(counter_id) == 1, 20, "the message after the garbage")
        log = consumers.wait_for_log("message_id=garbage-1 outcome=dead-lettered")
    dead = DeadLetter.objects.get(message_id="garbage-1")
    assert (dead.consumer, dead.raw, dead.deliveries, dead.payload) == (
        "toy-counters", "this is not an envelope", 1, None)
    assert dead.error["type"] == "MalformedMessage"
    assert outcomes(log, "garbage-1") == ["dead-lettered"]
    with pytest.raises(CommandError, match="could not be replayed"):
        call_command("replay_dead_letters", "--id", str(dead.pk))
    dead.refresh_from_db()
    assert dead.replayed_at is None and dead.error["type"] == "NotReplayable"


def test_given_nats_stopped_for_ten_seconds_then_the_consumer_recovers_by_itself_and_nothing_is_lost(
        dedicated_nats, tmp_path):
    counter_id, messages = increments(*([1] * 20))
    with run_consumers(tmp_path, nats_url=dedicated_nats.url) as consumers:
        consumers.wait_for_log("consuming mallbots.toy.events.Counter")
        publish(*messages[:10], nats_url=dedicated_nats.url)
        wait_until(lambda: handled_count(counter_id) == 10, 20, "the first ten")
        publish(*messages[10:], nats_url=dedicated_nats.url)
        dedicated_nats.stop()
        time.sleep(10)
        assert consumers.running
        dedicated_nats.start()
        wait_until(lambda: handled_count(counter_id) == 20, 30, "all twenty after the outage")
        assert consumers.running
    assert tally(counter_id).total == 20
    assert InboxMessage.objects.filter(consumer="toy-counters").count() == 20


def test_given_the_database_unreachable_then_messages_wait_without_being_dead_lettered_and_are_handled_after(
        fresh_stream, tmp_path):
    cable = DatabaseCable()
    cable.plug()
    first_id, [first] = increments(1)
    later_id, later = increments(1, 1, 1)
    try:
        with run_consumers(tmp_path, DATABASE_URL=cable.url, CONSUMER_MAX_DELIVER="1") as consumers:
            publish(first)
            wait_until(lambda: handled_count(first_id) == 1, 20, "the first message")
            cable.unplug()
            publish(*later)
            consumers.wait_for_log("outcome=db-unavailable")
            time.sleep(3)
            assert handled_count(later_id) == 0
            cable.plug()
            wait_until(lambda: handled_count(later_id) == 3, 30, "the messages after the outage")
            log = consumers.wait_for_log("database answers again")
    finally:
        cable.unplug()
    assert not DeadLetter.objects.exists()
    assert [outcomes(log, m.id)[-1] for m in later] == ["handled"] * 3
    assert tally(later_id).total == 3


def test_given_sigterm_during_a_message_then_it_is_finished_and_acked_and_the_runner_exits_zero(
        fresh_stream, tmp_path):
    counter_id, [message] = increments(1)
    Tally.objects.create(counter_id=counter_id)
    run_async(add_consumer, "toy-counters", "mallbots.toy.events.Counter", 30.0)
    with run_consumers(tmp_path) as consumers:
        consumers.wait_for_log("consuming mallbots.toy.events.Counter")
        with transaction.atomic():
            Tally.objects.select_for_update().get(counter_id=counter_id)
            publish(message)
            wait_until(lock_waiters, 20, "the handler to wait for the tally row")
            consumers.signal(signal.SIGTERM)
            time.sleep(0.5)
            assert consumers.running
        assert consumers.wait(15) == 0
        info = run_async(consumer_info, "toy-counters")
    log = consumers.log()
    assert log.index(f"message_id={message.id} outcome=handled") < log.index("consumers stopped")
    assert (tally(counter_id).total, tally(counter_id).handled) == (1, 1)
    config = info.config
    assert (config.filter_subject, config.ack_wait, str(config.deliver_policy), str(config.ack_policy)) == (
        "mallbots.toy.events.Counter", 2.0, "all", "explicit")
    assert config.max_deliver in (None, -1)
    assert (info.num_ack_pending, info.num_pending, info.num_redelivered) == (0, 0, 0)


def lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0]


async def add_consumer(durable: str, subject: str, ack_wait: float):
    import nats
    from django.conf import settings
    from nats.js.api import ConsumerConfig

    nc = await nats.connect(servers=[settings.NATS_URL], allow_reconnect=False)
    try:
        await nc.jetstream().add_consumer(settings.NATS_STREAM, ConsumerConfig(
            durable_name=durable, name=durable, filter_subject=subject, ack_wait=ack_wait))
    finally:
        await nc.close()


async def consumer_info(durable: str):
    import nats
    from django.conf import settings

    nc = await nats.connect(servers=[settings.NATS_URL], allow_reconnect=False)
    try:
        return await nc.jetstream().consumer_info(settings.NATS_STREAM, durable)
    finally:
        await nc.close()
