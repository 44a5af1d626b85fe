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
