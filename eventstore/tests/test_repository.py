"""Event store kernel on real PostgreSQL: concurrency, snapshots, upcasting, transactions."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction

from eventstore import codec, store
from eventstore.errors import ConcurrencyError, NotFound, OutboxError
from eventstore.models import OutboxMessage, Snapshot, StoredEvent
from eventstore.repository import Repository
from toyapp.domain import Counter

repo = Repository(Counter)


def open_counter(title="c", limit=Decimal("0")) -> Counter:
    counter = Counter.open(str(uuid.uuid4()), title, limit)
    with transaction.atomic():
        repo.create(counter)
    return counter


@pytest.mark.django_db
def test_given_saved_events_when_loaded_then_state_is_replayed():
    counter = open_counter("apples", Decimal("12.5"))
    loaded = repo.load(counter.id)
    with transaction.atomic():
        loaded.increment(3)
        loaded.increment(4)
        repo.save(loaded)
    again = repo.load(counter.id)
    assert (again.title, again.limit, again.total, again.version) == ("apples", Decimal("12.50"), 7, 3)


@pytest.mark.django_db
def test_unknown_and_malformed_ids_are_not_found():
    with pytest.raises(NotFound, match="counter not found"):
        repo.load(str(uuid.uuid4()))
    with pytest.raises(NotFound):
        repo.load("bad id with spaces")
    with pytest.raises(NotFound):
        repo.load("x" * 65)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_to_one_stream_exactly_one_wins():
    counter = open_counter()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def writer():
        try:
            mine = repo.load(counter.id)
            barrier.wait()
            with transaction.atomic():
                mine.increment(1)
                repo.save(mine)
            outcomes.append("saved")
        except ConcurrencyError as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["saved", "the counter was changed by another request"]
    assert repo.load(counter.id).total == 1


@pytest.mark.django_db
def test_load_with_snapshot_equals_full_replay(settings):
    settings.EVENTSTORE_SNAPSHOT_EVERY = 50
    counter = open_counter()
    for batch in range(6):
        with transaction.atomic():
            c = repo.load(counter.id)
            for n in range(20):
                c.increment(batch * 20 + n)
            repo.save(c)
    snapshot = Snapshot.objects.get(stream_type="toy.Counter", stream_id=counter.id)
    assert snapshot.version == 101  # the save that crossed 100
    with_snapshot = repo.load(counter.id)
    Snapshot.objects.all().delete()
    replayed = repo.load(counter.id)
    assert with_snapshot.version == replayed.version == 121
    assert vars(with_snapshot) == vars(replayed)


@pytest.mark.django_db
def test_outdated_snapshot_name_is_ignored(settings):
    settings.EVENTSTORE_SNAPSHOT_EVERY = 2
    counter = open_counter()
    with transaction.atomic():
        c = repo.load(counter.id)
        c.increment(5)
        repo.save(c)
    Snapshot.objects.update(snapshot_name="toy.CounterV0", state={"total": 999})
    assert repo.load(counter.id).total == 5


@pytest.mark.django_db
def test_event_stored_as_v1_loads_through_v1_v2_v3_upcasters():
    counter = open_counter("old")
    with transaction.atomic():
        store.append("toy.Counter", counter.id, 1, [store.NewEvent("toy.CounterRetitled", {"label": "new"}, 1)])
    loaded = repo.load(counter.id)
    assert (loaded.title, loaded.source) == ("new", "legacy")
    assert StoredEvent.objects.get(stream_id=counter.id, version=2).payload == {"label": "new"}


@pytest.mark.django_db
def test_rolled_back_transaction_leaves_no_event_and_no_outbox_row():
    counter = Counter.open(str(uuid.uuid4()), "rollback")
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            repo.create(counter)
            assert OutboxMessage.objects.filter(name="toyapi.CounterOpened").count() == 1
            raise RuntimeError("boom")
    assert not StoredEvent.objects.filter(stream_id=counter.id).exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_writes_outside_a_transaction_are_refused():
    counter = Counter.open(str(uuid.uuid4()), "no tx")
    with pytest.raises(OutboxError):
        repo.create(counter)
    assert not StoredEvent.objects.exists()


@pytest.mark.django_db
def test_money_round_trips_as_decimal_in_payloads():
    counter = open_counter("money", Decimal("21.689999999999998"))
    row = StoredEvent.objects.get(stream_id=counter.id)
    assert row.payload["limit"] == Decimal("21.69")
    assert codec.loads(codec.dumps({"x": Decimal("9999999999.99")}))["x"] == Decimal("9999999999.99")
