"""The outbox relay as a real process against real PostgreSQL and NATS (architecture.md §7, quality.md §2)."""

import re
import threading
import time
import uuid
from contextlib import ExitStack
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from nats.js.errors import APIError, NoStreamResponseError

from eventstore import codec
from eventstore.envelope import Envelope
from eventstore.models import OutboxMessage
from eventstore.relay import ack_outcome
from eventstore.repository import Repository
from eventstore.tests.crashing import RELAY_EXIT_STATUS
from eventstore.tests.processes import (delete_stream, run_command, stream_info, stream_messages, subprocess_env,
                                        wait_until)
from toyapp.domain import Counter

pytestmark = [pytest.mark.nats, pytest.mark.subprocess, pytest.mark.django_db(transaction=True)]

repo = Repository(Counter)


def open_counter(title: str = "c", limit: Decimal = Decimal("0")) -> str:
    counter = Counter.open(str(uuid.uuid4()), title, limit)
    with transaction.atomic():
        repo.create(counter)
    return counter.id


def increment(counter_id: str, times: int = 1) -> None:
    for _ in range(times):
        with transaction.atomic():
            counter = repo.load(counter_id)
            counter.increment(1)
            repo.save(counter)


def outbox_rows() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.order_by("position"))


def all_published() -> bool:
    return not OutboxMessage.objects.filter(published_at__isnull=True).exists()


def expected_envelope(row: OutboxMessage) -> Envelope:
    return Envelope(id=str(row.message_id), name=row.name, subject=row.subject, payload=row.payload,
                    metadata=row.metadata, sent_at=codec.format_timestamp(row.sent_at))


def message_ids(messages) -> list[str]:
    return [message.headers["Nats-Msg-Id"] for message in messages]


def relay_lock_holder() -> int | None:
    """OS pid of the relay holding the advisory lock (from its ``application_name``), if any."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'mallbots-relay:%%'"
        )
        holders = [int(name.split(":")[1]) for (name,) in cursor.fetchall()]
    assert len(holders) <= 1, holders
    return holders[0] if holders else None


def test_ensure_stream_creates_the_stream_then_updates_it_to_the_settings(settings):
    delete_stream(settings.NATS_URL, settings.NATS_STREAM)
    call_command("ensure_stream")
    config = stream_info(settings.NATS_URL, settings.NATS_STREAM).config
    assert (config.subjects, config.storage, config.num_replicas) == (["mallbots.>"], "file", 1)
    assert (config.duplicate_window, config.max_age) == (120, 30 * 86400)

    default_window = settings.NATS_DUPLICATE_WINDOW_SECONDS
    settings.NATS_DUPLICATE_WINDOW_SECONDS = 60
    call_command("ensure_stream")
    assert stream_info(settings.NATS_URL, settings.NATS_STREAM).config.duplicate_window == 60
    settings.NATS_DUPLICATE_WINDOW_SECONDS = default_window
    call_command("ensure_stream")
    assert stream_info(settings.NATS_URL, settings.NATS_STREAM).config.duplicate_window == 120


def test_given_committed_rows_when_relay_runs_then_they_are_published_in_position_order_and_marked_after_ack(
        fresh_stream, tmp_path):
    counters = [open_counter(f'Café "{n}" ü', Decimal("12.50")) for n in range(3)]
    for counter_id in counters:
        increment(counter_id, 2)
    rows = outbox_rows()
    assert rows[0].payload["limit"] == Decimal("12.5")
    assert len(rows) == 9 and all(row.published_at is None for row in rows)
    assert stream_info(settings.NATS_URL, fresh_stream).state.messages == 0

    with run_command("run_relay", env=subprocess_env(), log_path=tmp_path / "relay.log") as relay:
        wait_until(all_published, 20, "every row published")
        assert relay.terminate() == 0

    messages = stream_messages(settings.NATS_URL, fresh_stream)
    assert message_ids(messages) == [str(row.message_id) for row in rows]
    for message, row in zip(messages, outbox_rows()):
        assert message.subject == row.subject == "mallbots.toy.events.Counter"
        assert message.headers["Content-Type"] == "application/json"
        assert message.headers["traceparent"] == row.metadata["traceparent"]
        assert Envelope.from_json(message.data) == expected_envelope(row)
        assert row.published_at >= message.time
        assert (row.attempts, row.last_error) == (0, "")
    batches = re.findall(r"published (\d+) messages \((\d+) duplicates\)", relay.log())
    assert sum(int(sent) for sent, _ in batches) == 9 and all(dups == "0" for _, dups in batches)


def test_given_relay_killed_after_ack_before_marking_when_restarted_then_rows_are_republished_once_and_marked(
        fresh_stream, tmp_path):
    for _ in range(3):
        open_counter()
    rows = outbox_rows()

    with run_command("run_relay", env=subprocess_env(), log_path=tmp_path / "crashing-relay.log",
                     crash="relay-after-ack") as crashing:
        assert crashing.wait(30) == RELAY_EXIT_STATUS
    assert "relay exiting after 3 acks, before marking" in crashing.log()
    assert not OutboxMessage.objects.filter(published_at__isnull=False).exists()
    assert message_ids(stream_messages(settings.NATS_URL, fresh_stream)) == [str(row.message_id) for row in rows]

    with run_command("run_relay", env=subprocess_env(), log_path=tmp_path / "relay.log") as relay:
        wait_until(all_published, 20, "every row marked after the restart")
        relay.wait_for_log(r"published 3 messages \(3 duplicates\)")

    assert message_ids(stream_messages(settings.NATS_URL, fresh_stream)) == [str(row.message_id) for row in rows]
    assert stream_info(settings.NATS_URL, fresh_stream).state.messages == 3


def test_given_nats_down_for_ten_seconds_when_it_returns_then_the_relay_recovers_by_itself_and_loses_nothing(
        dedicated_nats, tmp_path):
    with run_command("run_relay", env=subprocess_env(nats_url=dedicated_nats.url),
                     log_path=tmp_path / "relay.log") as relay:
        counter_id = open_counter("before")
        wait_until(all_published, 20, "the first row published")

        dedicated_nats.stop()
        stopped_at = time.monotonic()
        increment(counter_id, 3)
        open_counter("during")
        first_waiting = OutboxMessage.objects.filter(published_at__isnull=True).order_by("position").first()
        wait_until(lambda: OutboxMessage.objects.filter(position=first_waiting.position, attempts__gte=2).exists(),
                   10, "failed attempts recorded while NATS is down")
        time.sleep(max(0.0, 10 - (time.monotonic() - stopped_at)))
        assert relay.running
        assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 4

        dedicated_nats.start()
        wait_until(all_published, 20, "the backlog drained after NATS returned")
        assert relay.running

    rows = outbox_rows()
    assert message_ids(stream_messages(dedicated_nats.url, settings.NATS_STREAM)) == [str(r.message_id) for r in rows]
    failed = next(row for row in rows if row.position == first_waiting.position)
    assert failed.attempts >= 2
    assert failed.last_error.startswith(("TimeoutError: no JetStream ack", "OutboundBufferLimitError"))
    assert all(row.attempts == 0 for row in rows if row.position < first_waiting.position)


def test_given_two_relays_when_the_active_one_is_killed_then_the_standby_takes_over_within_5s_keeping_order(
        fresh_stream, tmp_path):
    counters = [open_counter(f"c{n}") for n in range(3)]
    env = subprocess_env()
    with ExitStack() as running:
        relay_a = running.enter_context(run_command("run_relay", env=env, log_path=tmp_path / "relay-a.log"))
        relay_a.wait_for_log("listening on mallbots_outbox")
        relay_b = running.enter_context(run_command("run_relay", env=env, log_path=tmp_path / "relay-b.log"))
        relay_b.wait_for_log("standby: another relay holds")
        wait_until(all_published, 20, "the first rows published by the active relay")
        assert relay_lock_holder() == relay_a.pid

        writing = threading.Event()
        errors: list[BaseException] = []

        def busywork():
            try:
                n = 0
                while writing.is_set():
                    increment(counters[n % len(counters)])
                    n += 1
                    time.sleep(0.005)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        writing.set()
        writer = threading.Thread(target=busywork)
        writer.start()
        try:
            relay_a.wait_for_log(r"published \d+ messages", count=3)
            assert "published" not in relay_b.log() and "active" not in relay_b.log()
            relay_a.kill()
            killed_at = time.monotonic()
            wait_until(lambda: relay_lock_holder() == relay_b.pid, 5, "the standby holding the lock")
            takeover = time.monotonic() - killed_at
            relay_b.wait_for_log(r"published \d+ messages")
            time.sleep(0.3)
        finally:
            writing.clear()
            writer.join(30)
        assert not errors
        wait_until(all_published, 20, "every row published by the new active relay")

    assert takeover <= 5
    rows = outbox_rows()
    messages = stream_messages(settings.NATS_URL, fresh_stream)
    assert sorted(message_ids(messages)) == sorted(str(row.message_id) for row in rows)
    assert len(messages) == len(rows) > 10
    versions: dict[str, list[int]] = {}
    for message in messages:
        metadata = Envelope.from_json(message.data).metadata
        versions.setdefault(metadata["aggregate_id"], []).append(metadata["aggregate_version"])
    assert {counter_id: sorted(v) for counter_id, v in versions.items()} == versions
    assert sorted(versions) == sorted(counters)


def test_given_the_relay_database_session_is_terminated_when_rows_follow_then_it_reconnects_and_publishes(
        fresh_stream, tmp_path):
    with run_command("run_relay", env=subprocess_env(), log_path=tmp_path / "relay.log") as relay:
        relay.wait_for_log("listening on mallbots_outbox")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                           [f"mallbots-relay:{relay.pid}"])
            assert cursor.fetchone() == (True,)
        relay.wait_for_log("database connection lost")
        open_counter("after")
        wait_until(all_published, 10, "the row published after the reconnect")
        relay.wait_for_log("listening on mallbots_outbox", count=2)
        assert relay.running
    assert stream_info(settings.NATS_URL, fresh_stream).state.messages == 1


def test_given_a_waiting_relay_with_a_30s_poll_interval_when_a_row_commits_then_listen_wakes_it_at_once(
        fresh_stream, tmp_path):
    with run_command("run_relay", env=subprocess_env(RELAY_POLL_INTERVAL_SECONDS=30),
                     log_path=tmp_path / "relay.log") as relay:
        relay.wait_for_log("listening on mallbots_outbox")
        open_counter("first")
        wait_until(all_published, 5, "the first row published")
        time.sleep(0.5)

        open_counter("second")
        committed_at = time.monotonic()
        wait_until(all_published, 2, "the second row published without waiting for the poll")
        latency = time.monotonic() - committed_at

        stopping_at = time.monotonic()
        assert relay.terminate(timeout=5) == 0
        assert time.monotonic() - stopping_at < 3
    assert latency < 2
    assert stream_info(settings.NATS_URL, fresh_stream).state.messages == 2


@pytest.mark.parametrize("data, headers, expected", [
    (b'{"stream":"S","seq":1}', None, (True, False)),
    (b'{"stream":"S","seq":1,"duplicate": true}', None, (True, True)),
    (b'{"stream":"S","seq":1,"duplicate":true}', None, (True, True)),
    (b'{"stream":"S","seq":1,"duplicate":false}', None, (True, False)),
])
def test_a_jetstream_ack_is_read_as_stored_and_duplicate_or_not(data, headers, expected):
    assert ack_outcome(SimpleNamespace(data=data, headers=headers)) == expected


def test_a_jetstream_error_or_no_responders_answer_is_an_error():
    error, duplicate = ack_outcome(SimpleNamespace(
        data=b'{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}', headers=None))
    assert isinstance(error, APIError) and "maximum messages exceeded" in str(error) and not duplicate
    assert isinstance(ack_outcome(SimpleNamespace(data=b"", headers={"Status": "503"}))[0],
                      NoStreamResponseError)
