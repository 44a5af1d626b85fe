"""eventstore.backend on real PostgreSQL: BEGIN and deferred writes travel with the next statement (ADR 12); a
transaction of combinable writes is one prepared statement, and plain reads run ahead of BEGIN (ADR 35).

``sent()`` records the protocol messages the connection sends (libpq's trace), so these tests see
what reaches the server, not what the code meant to send.
"""

import contextlib
import os
import tempfile
import uuid

import pytest
from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from psycopg import IsolationLevel, pq

from eventstore import rows, store
from eventstore.errors import ConcurrencyError, VersionConflict
from eventstore.models import OutboxMessage, StoredEvent
from eventstore.repository import Repository
from toyapp.domain import Counter

repo = Repository(Counter)


class Boom(Exception):
    pass


@contextlib.contextmanager
def sent():
    """The frontend messages this thread's connection sends in the block, as ``(type, text)`` pairs."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    messages: list[tuple[str, str]] = []
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield messages
        finally:
            pgconn.untrace()
            trace.seek(0)
            for line in trace.read().decode().splitlines():
                direction, _, kind, *text = line.split("\t")
                if direction == "F":
                    messages.append((kind, "\t".join(text).strip().strip('"')))


def open_counter() -> Counter:
    counter = Counter.open(str(uuid.uuid4()), "c")
    with transaction.atomic():
        repo.create(counter)
    return counter


def append_raw(stream_id: str, after: int) -> None:
    store.append("toy.Counter", stream_id, after, [store.NewEvent("toy.CounterIncremented", {"by": 1})])


def stale_counter() -> Counter:
    """A counter loaded at version 1, after which another writer committed version 2."""
    counter = open_counter()
    stale = repo.load(counter.id)
    with transaction.atomic():
        append_raw(counter.id, 1)
    return stale


def round_trips(messages: list[tuple[str, str]]) -> list[list[str]]:
    """The message kinds of each exchange: a simple ``Query``, or the extended protocol's messages up to ``Sync``."""
    trips, current = [], []
    for kind, _ in messages:
        current.append(kind)
        if kind in ("Query", "Sync"):
            trips.append(current)
            current = []
    return trips + ([current] if current else [])


def prepared_statements(like: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", [like])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_saving_a_new_aggregate_is_one_prepared_statement_in_its_own_transaction():
    open_counter()
    with sent() as messages:
        counter = open_counter()
    assert round_trips(messages) == [["Bind", "Describe", "Execute", "Sync"]]
    [statement] = prepared_statements("WITH w0 AS (INSERT INTO eventstore_event %")
    assert statement.endswith(") INSERT INTO eventstore_outbox (message_id, name, subject, payload, metadata, sent_at,"
                              " attempts, last_error) VALUES ($10, $11, $12, $13::jsonb, $14::jsonb, $15, 0, '')")
    assert StoredEvent.objects.filter(stream_id=counter.id).count() == 1
    assert OutboxMessage.objects.filter(name="toyapi.CounterOpened").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_command_on_an_existing_aggregate_is_a_read_ahead_of_the_transaction_then_one_statement():
    counter = open_counter()
    repo.load(counter.id)
    with override_settings(EVENTSTORE_AGGREGATE_CACHE_SIZE=0):
        repo.load(counter.id)
    for cache_size in (settings.EVENTSTORE_AGGREGATE_CACHE_SIZE, 0):
        with override_settings(EVENTSTORE_AGGREGATE_CACHE_SIZE=cache_size), sent() as messages:
            with transaction.atomic():
                loaded = repo.load(counter.id)
                loaded.increment(2)
                repo.save(loaded)
        assert round_trips(messages) == [["Bind", "Describe", "Execute", "Sync"]] * 2
        assert not any("BEGIN" in text or "COMMIT" in text for _, text in messages)
    assert repo.load(counter.id).total == 4


@pytest.mark.django_db(transaction=True)
def test_a_transaction_with_a_write_that_is_not_combinable_sends_begin_its_writes_and_commit_as_one_message():
    counter = open_counter()
    with sent() as messages:
        with transaction.atomic():
            append_raw(counter.id, 1)
            store.write("UPDATE eventstore_outbox SET attempts = attempts WHERE message_id = %s", [str(uuid.uuid4())])
    [(kind, text)] = messages
    assert kind == "Query" and text.startswith("BEGIN; INSERT INTO eventstore_event") and text.endswith("; COMMIT")
    assert "; UPDATE eventstore_outbox " in text


@pytest.mark.django_db(transaction=True)
def test_combined_writes_keep_the_order_they_were_issued_in_within_each_table():
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    row = "(%s, 'n', 's', '{}', '{}', now(), 0, '')"
    insert = ("INSERT INTO eventstore_outbox (message_id, name, subject, payload, metadata, sent_at, attempts,"
              f" last_error) VALUES {row}")
    message_ids = [str(uuid.uuid4()) for _ in range(4)]
    with sent() as messages, transaction.atomic():
        append_raw(first, 0)
        store.write(insert, [message_ids[0]], combinable=True)
        append_raw(second, 0)
        for message_id in message_ids[1:]:
            store.write(insert, [message_id], combinable=True)
        append_raw(first, 1)
    assert [kind for kind, _ in messages].count("Execute") == 1 and "Query" not in [kind for kind, _ in messages]
    assert [(e.stream_id, e.version) for e in StoredEvent.objects.order_by("global_position")] == [
        (first, 1), (second, 1), (first, 2)]
    assert [str(m.message_id) for m in OutboxMessage.objects.order_by("position")] == message_ids


@pytest.mark.django_db(transaction=True)
def test_combined_writes_that_clash_with_each_other_fail_together():
    message_id = str(uuid.uuid4())
    row = "(%s, 'n', 's', '{}', '{}', now(), 0, '')"
    insert = ("INSERT INTO eventstore_outbox (message_id, name, subject, payload, metadata, sent_at, attempts,"
              f" last_error) VALUES {row}")
    with pytest.raises(IntegrityError, match="eventstore_outbox_message_id_key"), transaction.atomic():
        append_raw(str(uuid.uuid4()), 0)
        store.write(insert, [message_id], combinable=True)
        store.write(insert, [message_id], combinable=True)
    assert not OutboxMessage.objects.exists() and not StoredEvent.objects.exists()
    with transaction.atomic():
        store.write(insert, [message_id], combinable=True)
    assert OutboxMessage.objects.filter(message_id=message_id).exists()


@pytest.mark.django_db(transaction=True)
def test_a_block_that_runs_no_statement_sends_nothing():
    with sent() as messages:
        with transaction.atomic():
            pass
        with pytest.raises(Boom), transaction.atomic():
            repo.create(Counter.open(str(uuid.uuid4()), "never sent"))
            raise Boom
    assert messages == []
    assert not StoredEvent.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_deferred_writes_reach_the_server_before_the_next_statement_reads():
    stream_id = str(uuid.uuid4())
    with transaction.atomic():
        append_raw(stream_id, 0)
        assert StoredEvent.objects.filter(stream_id=stream_id).count() == 1
        append_raw(stream_id, 1)
        assert [e.version for e in StoredEvent.objects.filter(stream_id=stream_id).iterator(chunk_size=1)] == [1, 2]
        append_raw(stream_id, 2)
        with connection.cursor() as cursor:
            cursor.executemany("SELECT %s", [(1,), (2,)])
        assert StoredEvent.objects.filter(stream_id=stream_id).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_version_clash_surfaces_at_commit_rolls_everything_back_and_leaves_the_connection_usable():
    stale = stale_counter()
    outbox_rows = OutboxMessage.objects.count()
    with pytest.raises(ConcurrencyError) as clash:
        with transaction.atomic():
            stale.increment(1)
            repo.save(stale)
    assert isinstance(clash.value, VersionConflict)
    assert clash.value.message == "the counter was changed by another request"
    assert StoredEvent.objects.filter(stream_id=stale.id).count() == 2
    assert OutboxMessage.objects.count() == outbox_rows
    assert repo.load(stale.id).total == 1


@pytest.mark.django_db(transaction=True)
def test_a_version_clash_surfaces_at_the_next_statement_in_the_transaction():
    stale = stale_counter()
    with pytest.raises(VersionConflict), transaction.atomic():
        stale.increment(1)
        repo.save(stale)
        StoredEvent.objects.count()
    assert StoredEvent.objects.filter(stream_id=stale.id).count() == 2


@pytest.mark.django_db(transaction=True)
def test_any_other_error_of_a_deferred_write_surfaces_as_the_database_raised_it():
    with pytest.raises(IntegrityError, match="eventstore_outbox_message_id_key"), transaction.atomic():
        row = "(%s, 'n', 's', '{}', '{}', now(), 0, '')"
        store.write("INSERT INTO eventstore_outbox (message_id, name, subject, payload, metadata, sent_at, attempts,"
                    f" last_error) VALUES {row}, {row}", [str(uuid.UUID(int=1))] * 2)
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_drops_only_its_own_deferred_writes():
    kept, dropped = str(uuid.uuid4()), str(uuid.uuid4())
    with transaction.atomic():
        append_raw(kept, 0)
        with pytest.raises(Boom), transaction.atomic():
            append_raw(dropped, 0)
            raise Boom
        append_raw(kept, 1)
    assert list(StoredEvent.objects.filter(stream_id=kept).values_list("version", flat=True)) == [1, 2]
    assert not StoredEvent.objects.filter(stream_id=dropped).exists()


@pytest.mark.django_db(transaction=True)
def test_a_savepoint_travels_with_the_first_statement_of_its_block():
    stream_id = str(uuid.uuid4())
    with sent() as messages:
        with transaction.atomic():
            StoredEvent.objects.count()
            with transaction.atomic():
                append_raw(stream_id, 0)
                StoredEvent.objects.filter(stream_id=stream_id).count()
            append_raw(stream_id, 1)
    texts = [text for _, text in messages]
    assert len(texts) == 4
    assert texts[1].startswith("SAVEPOINT ") and "; INSERT INTO eventstore_event" in texts[1]
    assert texts[2].startswith("RELEASE SAVEPOINT ") and texts[3].endswith("; COMMIT")
    assert list(StoredEvent.objects.filter(stream_id=stream_id).values_list("version", flat=True)) == [1, 2]


@pytest.mark.django_db(transaction=True)
def test_a_block_of_writes_sends_its_savepoint_writes_and_release_as_one_message_at_its_end():
    stream_id = str(uuid.uuid4())
    with sent() as messages:
        with transaction.atomic():
            StoredEvent.objects.count()
            with transaction.atomic():
                append_raw(stream_id, 0)
            StoredEvent.objects.count()
    texts = [text for _, text in messages]
    assert len(texts) == 4 and texts[2].startswith("SELECT ")
    assert texts[1].startswith("SAVEPOINT ") and "; INSERT INTO eventstore_event" in texts[1]
    assert "; RELEASE SAVEPOINT " in texts[1]
    assert StoredEvent.objects.filter(stream_id=stream_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_savepoint_that_nothing_followed_or_that_was_rolled_back_before_sending_is_never_sent():
    kept, dropped = str(uuid.uuid4()), str(uuid.uuid4())
    with sent() as messages:
        with transaction.atomic():
            StoredEvent.objects.count()
            with transaction.atomic():
                pass
            with pytest.raises(Boom), transaction.atomic():
                append_raw(dropped, 0)
                raise Boom
            append_raw(kept, 0)
    assert not any("SAVEPOINT" in text for _, text in messages)
    assert StoredEvent.objects.filter(stream_id=kept).count() == 1
    assert not StoredEvent.objects.filter(stream_id=dropped).exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_write_of_a_block_that_ran_no_statement_rolls_back_to_its_savepoint_and_the_transaction_goes_on():
    kept = str(uuid.uuid4())
    duplicate = str(uuid.uuid4())
    row = "(%s, 'n', 's', '{}', '{}', now(), 0, '')"
    with transaction.atomic():
        StoredEvent.objects.count()
        with pytest.raises(IntegrityError), transaction.atomic():
            store.write("INSERT INTO eventstore_outbox (message_id, name, subject, payload, metadata, sent_at, attempts,"
                        f" last_error) VALUES {row}, {row}", [duplicate] * 2)
        append_raw(kept, 0)
    assert StoredEvent.objects.filter(stream_id=kept).count() == 1
    assert not OutboxMessage.objects.filter(message_id=duplicate).exists()


@pytest.mark.django_db(transaction=True)
def test_a_savepoint_sent_before_its_block_failed_is_rolled_back_on_the_server_and_the_transaction_goes_on():
    kept, dropped = str(uuid.uuid4()), str(uuid.uuid4())
    with sent() as messages:
        with transaction.atomic():
            StoredEvent.objects.count()
            with pytest.raises(DataError), transaction.atomic():
                append_raw(dropped, 0)
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1/0")
            append_raw(kept, 0)
    assert any(text.startswith("ROLLBACK TO SAVEPOINT ") for _, text in messages)
    assert StoredEvent.objects.filter(stream_id=kept).count() == 1
    assert not StoredEvent.objects.filter(stream_id=dropped).exists()


@pytest.mark.django_db(transaction=True)
def test_captured_queries_list_each_deferred_write_on_its_own():
    with CaptureQueriesContext(connection) as captured:
        open_counter()
        with transaction.atomic():
            append_raw(str(uuid.uuid4()), 0)
            StoredEvent.objects.exists()
    statements = [q["sql"] for q in captured.captured_queries]
    assert [s.split(" (")[0].split(" FROM ")[0] for s in statements] == [
        "INSERT INTO eventstore_event", "INSERT INTO eventstore_outbox",
        "INSERT INTO eventstore_event", "SELECT 1 AS \"a\"", "COMMIT"]
    assert "VALUES ('" in statements[0] and "VALUES ('" in statements[1]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_session_alone():
    parent = backend_pid()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.write(writer, str(backend_pid()).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        child_backend = pipe.read()
    os.waitpid(child, 0)
    assert child_backend and int(child_backend) != parent
    assert backend_pid() == parent


@pytest.mark.django_db(transaction=True)
def test_a_fixed_read_with_nothing_pending_is_prepared_once_then_sent_as_parameters_only():
    counter = open_counter()
    with sent() as messages:
        for _ in range(3):
            assert rows.value(StoredEvent, "version", "stream_id = %s", [counter.id]) == 1
    kinds = [kind for kind, _ in messages]
    assert "Query" not in kinds
    assert kinds.count("Parse") <= 1 and kinds.count("Bind") == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['%FROM "eventstore_event" WHERE stream_id = $1 LIMIT 1'])
        assert cursor.fetchone() == (1,)


@pytest.mark.django_db(transaction=True)
def test_a_fixed_read_that_locks_nothing_runs_ahead_of_a_pending_begin_which_waits_for_the_first_write():
    counter = open_counter()
    assert rows.exists(StoredEvent, "stream_id = %s", [counter.id])
    with sent() as messages:
        with transaction.atomic():
            assert rows.exists(StoredEvent, "stream_id = %s", [counter.id])
        with transaction.atomic():
            assert rows.exists(StoredEvent, "stream_id = %s", [counter.id])
            with connection.cursor() as cursor:
                cursor.execute("UPDATE eventstore_outbox SET attempts = attempts WHERE false")
    assert [kinds[0] for kinds in round_trips(messages)] == ["Bind", "Bind", "Query", "Query"]
    assert messages[-2][1].startswith("BEGIN; UPDATE ") and messages[-1][1] == "COMMIT"


@pytest.mark.django_db(transaction=True)
def test_a_locking_read_or_one_behind_deferred_writes_or_outside_read_committed_travels_with_begin_as_text():
    counter = open_counter()
    with sent() as messages:
        with transaction.atomic():
            assert rows.first(StoredEvent, "stream_id = %s", [counter.id], for_update=True) is not None
        with transaction.atomic():
            append_raw(counter.id, 1)
            assert rows.value(StoredEvent, "version", "stream_id = %s", [counter.id], order_by="version DESC") == 2
        level, connection.isolation_level = connection.isolation_level, IsolationLevel.REPEATABLE_READ
        try:
            with transaction.atomic():
                assert rows.exists(StoredEvent, "stream_id = %s", [counter.id])
        finally:
            connection.isolation_level = level
    texts = [text for kind, text in messages if kind == "Query"]
    assert len(texts) == 6 and texts[1::2] == ["COMMIT"] * 3
    assert texts[0].startswith("BEGIN; SELECT ") and texts[0].endswith(" FOR UPDATE")
    assert texts[2].startswith("BEGIN; INSERT INTO eventstore_event ") and "; SELECT version FROM" in texts[2]
    assert texts[4].startswith("BEGIN; SELECT 1 FROM ")


@pytest.mark.django_db(transaction=True)
def test_a_prepared_read_is_logged_and_its_errors_are_djangos():
    with CaptureQueriesContext(connection) as captured:
        assert rows.first(StoredEvent, "stream_id = %s", ["none"]) is None
    assert len(captured.captured_queries) == 1 and "prepared" in captured.captured_queries[0]["sql"]
    with pytest.raises(DataError):
        rows.first(StoredEvent, "global_position = %s", ["not a number"])
    assert rows.first(StoredEvent, "stream_id = %s", ["none"]) is None


@pytest.mark.django_db(transaction=True)
def test_the_kept_statement_cursor_follows_a_reopened_connection():
    counter = open_counter()
    connection.close()
    again = open_counter()
    assert rows.exists(StoredEvent, "stream_id = %s", [counter.id])
    connection.close()
    assert rows.exists(StoredEvent, "stream_id = %s", [again.id])


@pytest.mark.django_db(transaction=True)
def test_without_prepared_statements_the_shapes_stay_and_each_statement_is_parsed_again():
    counter = open_counter()
    psycopg_connection = connection.connection
    threshold, psycopg_connection.prepare_threshold = psycopg_connection.prepare_threshold, None
    try:
        with sent() as messages:
            for _ in range(2):
                with transaction.atomic():
                    loaded = repo.load(counter.id)
                    loaded.increment(1)
                    repo.save(loaded)
    finally:
        psycopg_connection.prepare_threshold = threshold
    trips = round_trips(messages)
    assert trips == [["Parse", "Bind", "Describe", "Execute", "Sync"]] * 4
    assert not any("BEGIN" in text or "COMMIT" in text for _, text in messages)
    assert repo.load(counter.id).total == 2
