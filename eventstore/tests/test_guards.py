"""Version guards (``eventstore.guards``): stale events of an aggregate are recognised, also across processes."""

import threading
import time

import pytest
from django.db import connection, transaction

from eventstore.envelope import Envelope
from eventstore.guards import is_newest
from eventstore.messaging import Received


def received(version, *, aggregate_id="o1", durable="payments-orders") -> Received:
    metadata = {"aggregate_type": "ordering.Order", "aggregate_id": aggregate_id, "aggregate_version": version}
    if version is None:
        metadata = {}
    envelope = Envelope(id="00000000-0000-4000-8000-000000000001", name="x", subject="s", payload={},
                        metadata=metadata, sent_at="")
    return Received(envelope=envelope, message=None, durable=durable)


def newest(*args, **kwargs) -> bool:
    with transaction.atomic():
        return is_newest(received(*args, **kwargs))


@pytest.mark.django_db
def test_only_a_version_higher_than_any_applied_before_is_newest_per_durable_and_aggregate():
    assert newest(3)
    assert not newest(3) and not newest(2)
    assert newest(4)
    assert newest(1, aggregate_id="o2") and newest(1, durable="depot-orders")
    assert newest(None) and newest(None)


@pytest.mark.django_db(transaction=True)
def test_a_second_process_handling_the_same_aggregate_waits_for_the_first_and_then_sees_it_is_stale():
    outcome: list[bool] = []

    def older_event_elsewhere() -> None:
        try:
            outcome.append(newest(5))
        finally:
            connection.close()

    with transaction.atomic():
        assert is_newest(received(6))
        other = threading.Thread(target=older_event_elsewhere)
        other.start()
        time.sleep(0.3)
        assert outcome == []
    other.join(10)
    assert outcome == [False]
