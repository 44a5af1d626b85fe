"""Kernel scheduled jobs (architecture.md §12) and the idempotent schedule registration."""

import io
import logging
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from eventstore import schedules as schedule_registry, tasks
from eventstore.schedules import Planned, resolves, setup_schedules
from eventstore.models import DeadLetter, InboxMessage, OutboxMessage, SagaInstance
from eventstore.tests import processes
from toyapp.saga import start_shipment

pytestmark = pytest.mark.django_db


def outbox_row(*, sent_days_ago: float, published_days_ago: float | None) -> OutboxMessage:
    now = timezone.now()
    return OutboxMessage.objects.create(
        message_id=uuid.uuid4(), name="toyapi.CounterOpened", subject="mallbots.toy.events.Counter", payload={},
        metadata={}, sent_at=now - timedelta(days=sent_days_ago),
        published_at=None if published_days_ago is None else now - timedelta(days=published_days_ago))


def inbox_row(*, days_ago: float) -> InboxMessage:
    row = InboxMessage.objects.create(consumer="toy-counters", message_id=uuid.uuid4(), name="n", subject="s",
                                      payload={}, metadata={})
    InboxMessage.objects.filter(pk=row.pk).update(received_at=timezone.now() - timedelta(days=days_ago))
    return row


def dead_letter(consumer: str) -> DeadLetter:
    return DeadLetter.objects.create(consumer=consumer, message_id=str(uuid.uuid4()), subject="s", deliveries=5)


def test_prune_outbox_deletes_only_rows_published_before_the_retention(settings):
    settings.OUTBOX_RETENTION_DAYS = 7
    old_published = outbox_row(sent_days_ago=9, published_days_ago=8)
    recent = outbox_row(sent_days_ago=9, published_days_ago=6)
    old_unpublished = outbox_row(sent_days_ago=30, published_days_ago=None)
    assert tasks.prune_outbox() == 1
    remaining = set(OutboxMessage.objects.values_list("position", flat=True))
    assert remaining == {recent.position, old_unpublished.position}
    assert old_published.position not in remaining


def test_prune_inbox_deletes_rows_received_before_the_retention_in_batches(settings, monkeypatch):
    settings.INBOX_RETENTION_DAYS = 7
    settings.NATS_STREAM_MAX_AGE_DAYS = 5
    monkeypatch.setattr(tasks, "PRUNE_BATCH", 2)
    for _ in range(5):
        inbox_row(days_ago=8)
    kept = inbox_row(days_ago=6)
    assert tasks.prune_inbox() == 5
    assert list(InboxMessage.objects.values_list("pk", flat=True)) == [kept.pk]


def test_inbox_rows_are_kept_as_long_as_the_stream_keeps_messages_whatever_inbox_retention_says(settings):
    settings.INBOX_RETENTION_DAYS = 7
    settings.NATS_STREAM_MAX_AGE_DAYS = 30
    kept = inbox_row(days_ago=29)
    inbox_row(days_ago=31)
    assert tasks.prune_inbox() == 1
    assert list(InboxMessage.objects.values_list("pk", flat=True)) == [kept.pk]


def test_check_lag_warns_about_an_old_unpublished_outbox_row(settings, caplog):
    settings.LAG_WARN_SECONDS = 60
    outbox_row(sent_days_ago=0.01, published_days_ago=None)
    with caplog.at_level(logging.WARNING, logger="mallbots.tasks"):
        report = tasks.check_lag(jetstream=False)
    assert report["outbox_age_seconds"] > 800
    assert "outbox lag" in caplog.text


def test_check_lag_is_quiet_when_the_outbox_is_fresh(caplog):
    outbox_row(sent_days_ago=30, published_days_ago=29)
    with caplog.at_level(logging.WARNING, logger="mallbots.tasks"):
        report = tasks.check_lag(jetstream=False)
    assert report == {"outbox_age_seconds": 0.0, "outbox_dead_lettered": 0, "new_dead_letters": {}, "failed_sagas": 0,
                      "jetstream_pending": {}}
    assert caplog.text == ""


def test_check_lag_reports_each_new_dead_letter_once(caplog):
    dead_letter("toy-counters")
    dead_letter("toy-counters")
    dead_letter("toy-commands")
    with caplog.at_level(logging.WARNING, logger="mallbots.tasks"):
        assert tasks.check_lag(jetstream=False)["new_dead_letters"] == {"toy-counters": 2, "toy-commands": 1}
    assert "2 new dead letter(s) on toy-counters" in caplog.text
    assert tasks.check_lag(jetstream=False)["new_dead_letters"] == {}
    dead_letter("toy-commands")
    assert tasks.check_lag(jetstream=False)["new_dead_letters"] == {"toy-commands": 1}


def test_check_lag_warns_while_sagas_are_failed(caplog):
    SagaInstance.objects.create(saga_name="toy.Shipment", saga_id="s-1", data={}, status="failed")
    SagaInstance.objects.create(saga_name="toy.Shipment", saga_id="s-2", data={}, status="compensated")
    with caplog.at_level(logging.WARNING, logger="mallbots.tasks"):
        assert tasks.check_lag(jetstream=False)["failed_sagas"] == 1
    assert "1 saga(s) failed" in caplog.text


@pytest.mark.nats
def test_jetstream_pending_counts_undelivered_messages_per_existing_durable(fresh_stream, nats_url):
    from nats.js.api import AckPolicy, ConsumerConfig

    async def given_probe_with_three_messages(js):
        await js.add_consumer(fresh_stream, ConsumerConfig(durable_name="lag-probe", ack_policy=AckPolicy.EXPLICIT,
                                                           filter_subject="mallbots.toy.lagprobe"))
        for n in range(3):
            await js.publish("mallbots.toy.lagprobe", str(n).encode())

    processes.run_async(processes._with_jetstream, nats_url, given_probe_with_three_messages)
    assert tasks.jetstream_pending(["lag-probe", "no-such-durable"]) == {"lag-probe": 3}


def test_jetstream_pending_is_empty_with_a_warning_when_nats_is_unreachable(settings, caplog):
    settings.NATS_URL = f"nats://127.0.0.1:{processes.free_port(settings.EMBEDDED_NATS_PORT + 150)}"
    with caplog.at_level(logging.WARNING, logger="mallbots.tasks"):
        assert tasks.jetstream_pending(["toy-counters"], timeout=3) == {}
    assert "could not read JetStream pending" in caplog.text


def test_check_saga_timeouts_re_sends_overdue_saga_commands():
    shipment_id = str(uuid.uuid4())
    start_shipment(shipment_id)
    SagaInstance.objects.filter(saga_id=shipment_id).update(step_sent_at=timezone.now() - timedelta(hours=1))
    assert tasks.check_saga_timeouts() == 1
    assert SagaInstance.objects.get(saga_id=shipment_id).resends == 1
    assert OutboxMessage.objects.filter(name="toyapi.Reserve").count() == 2


def schedules() -> dict[str, tuple]:
    return {s.name: (s.func, s.schedule_type, s.minutes, s.repeats) for s in Schedule.objects.all()}


def test_declaring_a_schedule_again_with_other_settings_is_an_error():
    assert schedule_registry.declare(name="lag-check", func="eventstore.tasks.check_lag").name == "lag-check"
    with pytest.raises(ValueError, match="lag-check declared twice"):
        schedule_registry.declare(name="lag-check", func="eventstore.tasks.check_lag", hourly=True)


def test_setup_schedules_registers_every_importable_function_once_and_is_idempotent():
    declared = schedule_registry.planned()
    expected = {p.name for p in declared if resolves(p.func)}
    assert {"lag-check", "prune-outbox", "prune-inbox"} <= expected
    first = setup_schedules()
    assert set(first["registered"]) == expected
    assert set(first["skipped"]) == {p.name for p in declared} - expected
    Schedule.objects.filter(name="lag-check").update(minutes=5)
    setup_schedules()
    assert Schedule.objects.count() == len(expected)
    registered = schedules()
    assert registered["lag-check"] == ("eventstore.tasks.check_lag", Schedule.MINUTES, 1, -1)
    assert registered["prune-outbox"] == ("eventstore.tasks.prune_outbox", Schedule.HOURLY, None, -1)
    assert registered["prune-inbox"] == ("eventstore.tasks.prune_inbox", Schedule.HOURLY, None, -1)


def test_setup_schedules_deletes_schedules_whose_function_no_longer_resolves():
    Schedule.objects.create(name="old-job", func="eventstore.tasks.gone_away", schedule_type=Schedule.MINUTES,
                            minutes=1)
    Schedule.objects.create(name="not-yet", func="nowhere.tasks.job", schedule_type=Schedule.MINUTES, minutes=1)
    result = setup_schedules([Planned("not-yet", "nowhere.tasks.job"), Planned("lag-check", "eventstore.tasks.check_lag")])
    assert (result["registered"], result["skipped"]) == (["lag-check"], ["not-yet"])
    assert sorted(result["deleted"]) == ["not-yet", "old-job"]
    assert set(schedules()) == {"lag-check"}


def test_setup_schedules_command_prints_what_it_registered():
    out = io.StringIO()
    call_command("setup_schedules", stdout=out)
    call_command("setup_schedules", stdout=out)
    assert out.getvalue().count("schedules registered:") == 2
    assert "lag-check" in out.getvalue()
    assert Schedule.objects.filter(name="lag-check").count() == 1


@pytest.mark.django_db(transaction=True)
def test_given_a_connection_pool_configured_then_qcluster_forks_workers_without_sharing_connections(tmp_path):
    from django_q.models import Success
    from django_q.tasks import async_task

    for n in range(30):
        async_task("math.floor", n + 0.5)
    env = processes.subprocess_env(DATABASE_POOL_MAX_SIZE="20", Q_WORKERS="2")
    with processes.run_command("qcluster", env=env, log_path=tmp_path / "qcluster.log") as cluster:
        processes.wait_until(lambda: Success.objects.count() >= 30, 60, "30 tasks done")
        log = cluster.log()
    assert sorted(Success.objects.values_list("result", flat=True)) == list(range(30))
    assert "Traceback" not in log and "ERROR" not in log
