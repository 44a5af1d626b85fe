"""The process's aggregate cache: an in-memory snapshot that proves itself on every load (ADR 12)."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from eventstore import aggregate_cache, store
from eventstore.aggregate_cache import AggregateCache, Entry
from eventstore.repository import Repository
from toyapp.domain import Counter

repo = Repository(Counter)


@pytest.fixture(autouse=True)
def empty_cache():
    aggregate_cache.cache().clear()
    yield
    aggregate_cache.cache().clear()


def committed(counter_id: str | None = None, by: int = 1) -> Counter:
    """A counter opened (or loaded) and incremented by ``by``, saved in a transaction that commits."""
    with transaction.atomic():
        counter = repo.load(counter_id) if counter_id else Counter.open(str(uuid.uuid4()), "c")
        counter.increment(by)
        repo.save(counter)
    return counter


def cached(counter_id: str) -> Entry | None:
    return aggregate_cache.cache().get(("toy.Counter", counter_id))


def loaded_with_queries(counter_id: str) -> tuple[Counter, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        counter = repo.load(counter_id)
    return counter, [q["sql"] for q in captured.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_after_a_commit_a_load_reads_only_from_the_cached_version_on():
    counter = committed(by=3)
    committed(counter.id, by=4)
    assert cached(counter.id).version == 3
    loaded, queries = loaded_with_queries(counter.id)
    assert (loaded.total, loaded.history, loaded.version) == (7, [3, 4], 3)
    assert len(queries) == 1 and "version >= %s" in queries[0] and queries[0].endswith(", 3]")
    assert "eventstore_snapshot" not in queries[0]


@pytest.mark.django_db(transaction=True)
def test_events_another_process_appended_after_the_cached_version_are_replayed():
    counter = committed(by=2)
    with transaction.atomic():
        store.append("toy.Counter", counter.id, 2, [store.NewEvent("toy.CounterIncremented", {"by": 5})])
    assert cached(counter.id).version == 2
    assert repo.load(counter.id).total == 7


@pytest.mark.django_db(transaction=True)
def test_an_entry_whose_event_is_no_longer_stored_is_dropped_and_the_stream_read_in_full():
    counter = committed(by=2)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM eventstore_event WHERE stream_id = %s", [counter.id])
    with transaction.atomic():
        store.append("toy.Counter", counter.id, 0, [
            store.NewEvent("toy.CounterOpened", {"title": "again", "limit": "0.00"}),
            store.NewEvent("toy.CounterIncremented", {"by": 9}),
        ])
    loaded = repo.load(counter.id)
    assert (loaded.title, loaded.total) == ("again", 9)
    assert cached(counter.id) is None


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_save_leaves_the_cached_state_at_the_committed_version():
    counter = committed(by=2)
    with pytest.raises(RuntimeError), transaction.atomic():
        again = repo.load(counter.id)
        again.increment(100)
        repo.save(again)
        raise RuntimeError("boom")
    assert cached(counter.id).version == 2
    assert repo.load(counter.id).total == 2


@pytest.mark.django_db(transaction=True)
def test_a_loaded_aggregate_is_a_fresh_copy_each_time():
    counter = committed(by=2)
    first = repo.load(counter.id)
    first.history.append(99)
    assert repo.load(counter.id).history == [2]


@pytest.mark.django_db(transaction=True)
def test_size_zero_keeps_nothing(settings):
    settings.EVENTSTORE_AGGREGATE_CACHE_SIZE = 0
    counter = committed(by=2)
    assert cached(counter.id) is None
    _, queries = loaded_with_queries(counter.id)
    assert "eventstore_snapshot" in queries[0]


def test_the_cache_keeps_the_most_recently_used_entries_and_never_goes_back_a_version():
    cache = AggregateCache(2)
    cache.put(("t", "a"), Entry(1, "e1", "{}"))
    cache.put(("t", "b"), Entry(1, "e1", "{}"))
    cache.get(("t", "a"))
    cache.put(("t", "c"), Entry(1, "e1", "{}"))
    assert cache.get(("t", "b")) is None and len(cache) == 2
    cache.put(("t", "a"), Entry(3, "e3", "{}"))
    cache.put(("t", "a"), Entry(2, "e2", "{}"))
    assert cache.get(("t", "a")).version == 3
