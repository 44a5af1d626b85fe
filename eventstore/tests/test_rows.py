"""``eventstore.rows``: the same instances and answers as the querysets they stand in for."""

import pytest
from django.utils import timezone

from eventstore import rows
from eventstore.models import SagaInstance

pytestmark = pytest.mark.django_db


def _instance(saga_id: str, step: int) -> SagaInstance:
    return SagaInstance.objects.create(saga_name="rows.Test", saga_id=saga_id, data={"total": 12.5, "items": [1]},
                                       step=step, status="running", step_sent_at=timezone.now(), version=1)


def test_given_a_row_when_first_then_same_fields_as_the_orm_with_json_decoded():
    created = _instance("s-1", 2)
    row = rows.first(SagaInstance, "saga_name = %s AND saga_id = %s", ["rows.Test", "s-1"])
    orm = SagaInstance.objects.get(pk=created.pk)
    assert {f.attname: getattr(row, f.attname) for f in SagaInstance._meta.concrete_fields} == \
        {f.attname: getattr(orm, f.attname) for f in SagaInstance._meta.concrete_fields}
    assert str(row.data["total"]) == "12.5" and row._state.adding is False and row._state.db == "default"
    assert rows.first(SagaInstance, "saga_id = %s", ["missing"]) is None


def test_given_rows_when_all_exists_and_value_then_ordered_and_raw():
    for saga_id, step in (("b", 3), ("a", 1), ("c", 2)):
        _instance(saga_id, step)
    ordered = rows.all(SagaInstance, "saga_name = %s", ["rows.Test"], order_by="step")
    assert [r.saga_id for r in ordered] == ["a", "c", "b"]
    assert rows.exists(SagaInstance, "saga_id = %s AND step = %s", ["c", 2])
    assert not rows.exists(SagaInstance, "saga_id = %s AND step = %s", ["c", 3])
    assert rows.value(SagaInstance, "saga_id", "saga_name = %s", ["rows.Test"], order_by="step DESC") == "b"
    assert rows.value(SagaInstance, "saga_id", "saga_name = %s", ["none"]) is None


def test_first_with_all_gives_the_row_and_its_ordered_children_as_first_and_all_do():
    from eventstore.models import StoredEvent
    from toyapp.models import Tally

    Tally.objects.create(counter_id="t-full", total=3, handled=2, order=[1, 2])
    Tally.objects.create(counter_id="t-empty")
    for version in (2, 1):
        StoredEvent.objects.create(event_id=f"00000000-0000-0000-0000-00000000000{version}", stream_type="toy.Counter",
                                   stream_id="t-full", version=version, event_name="toy.X", event_version=1,
                                   payload={"by": 1.5, "n": version}, metadata={}, occurred_at=timezone.now())

    def fields(instance):
        return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}

    row, events = rows.first_with_all(Tally, "t-full", StoredEvent, "stream_id", order_by="version")
    assert fields(row) == fields(rows.first(Tally, "counter_id = %s", ["t-full"])) and row.order == [1, 2]
    assert [fields(event) for event in events] == [
        fields(event) for event in rows.all(StoredEvent, "stream_id = %s", ["t-full"], order_by="version")]
    assert [event.payload["n"] for event in events] == [1, 2] and str(events[0].payload["by"]) == "1.5"
    assert rows.first_with_all(Tally, "t-empty", StoredEvent, "stream_id", order_by="version")[1] == []
    assert rows.first_with_all(Tally, "missing", StoredEvent, "stream_id", order_by="version") == (None, [])


def test_first_with_related_gives_the_row_and_the_row_its_column_points_to_as_two_first_reads_do():
    from eventstore.models import Checkpoint

    Checkpoint.objects.create(name="c-1", position=7)
    created = _instance("s-related", 2)
    created.saga_id = "c-1"
    created.save()

    def fields(instance):
        return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}

    row, related = rows.first_with_related(SagaInstance, created.pk, Checkpoint, "saga_id")
    assert fields(row) == fields(rows.first(SagaInstance, "id = %s", [created.pk])) and row.data["items"] == [1]
    assert fields(related) == fields(rows.first(Checkpoint, "name = %s", ["c-1"]))
    Checkpoint.objects.all().delete()
    assert rows.first_with_related(SagaInstance, created.pk, Checkpoint, "saga_id")[1] is None
    assert rows.first_with_related(SagaInstance, -1, Checkpoint, "saga_id") == (None, None)
