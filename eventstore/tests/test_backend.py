"""eventstore.backend on real PostgreSQL: BEGIN and deferred writes travel with the next statement (ADR 12).

``sent()`` records the protocol messages the connection sends (libpq's trace), so these tests see
what reaches the server, not what the code meant to send.
"""

import contextlib
import os
import tempfile
import uuid

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from psycopg import pq

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


@pytest.mark.django_db(transaction=True)
def test_saving_a_new_aggregate_is_one_message_to_the_server():
    with sent() as messages:
        counter = open_counter()
    assert [kind for kind, _ in messages] == ["Query"]
    text = messages[0][1]
    assert text.startswith("BEGIN; INSERT INTO eventstore_event") and text.endswith("; COMMIT")
    assert "INSERT INTO eventstore_outbox" in text
    assert StoredEvent.objects.filter(stream_id=counter.id).count() == 1
    assert OutboxMessage.objects.filter(name="toyapi.CounterOpened").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_command_on_an_existing_aggregate_is_a_read_then_the_writes_with_commit():
    counter = open_counter()
    with sent() as messages:
        with transaction.atomic():
            loaded = repo.load(counter.id)
            loaded.increment(2)
            repo.save(loaded)
    texts = [text for _, text in messages]
    assert len(texts) == 2
    assert texts[0].startswith("BEGIN; ") and "FROM eventstore_event" in texts[0]
    assert texts[1].startswith("INSERT INTO eventstore_event") and texts[1].endswith("; COMMIT")
    assert repo.load(counter.id).total == 2


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
    statements = [q["sql"] for q in captured.captured_queries]
    assert [s.split(" (")[0] for s in statements] == ["INSERT INTO eventstore_event", "INSERT INTO eventstore_outbox",
                                                     "COMMIT"]


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
def test_a_fixed_read_behind_a_pending_begin_travels_with_it_as_text():
    counter = open_counter()
    with sent() as messages:
        with transaction.atomic():
            assert rows.exists(StoredEvent, "stream_id = %s", [counter.id])
    assert [kind for kind, _ in messages] == ["Query", "Query"]
    assert messages[0][1].startswith("BEGIN; SELECT 1 FROM") and messages[1][1] == "COMMIT"


@pytest.mark.django_db(transaction=True)
def test_a_prepared_read_is_logged_and_its_errors_are_djangos():
    with CaptureQueriesContext(connection) as captured:
        assert rows.first(StoredEvent, "stream_id = %s", ["none"]) is None
    assert len(captured.captured_queries) == 1 and "prepared" in captured.captured_queries[0]["sql"]
    with pytest.raises(DataError):
        rows.first(StoredEvent, "global_position = %s", ["not a number"])
    assert rows.first(StoredEvent, "stream_id = %s", ["none"]) is None
