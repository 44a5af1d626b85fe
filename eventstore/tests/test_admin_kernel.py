"""Kernel admin (architecture.md §13): superusers only, operator actions."""

import uuid

import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from eventstore import messaging
from eventstore.models import DeadLetter, InboxMessage, OutboxMessage, SagaInstance
from eventstore.repository import Repository
from eventstore.testing import envelope_of
from toyapp.domain import Counter
from toyapp.models import Tally

pytestmark = pytest.mark.django_db

KERNEL_PAGES = ["storedevent", "snapshot", "outboxmessage", "inboxmessage", "deadletter", "sagainstance"]


@pytest.fixture
def superuser(client):
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return user


@pytest.fixture
def staff(client):
    user = User.objects.create_user("dora", password="pw", is_staff=True)
    for role in ("depot_admin", "store_admin"):
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    client.force_login(user)
    return user


def open_counter(*steps: int) -> str:
    counter = Counter.open(str(uuid.uuid4()), "admin")
    for by in steps:
        counter.increment(by)
    with transaction.atomic():
        Repository(Counter).create(counter)
    return counter.id


def dead_letter_for(counter_id: str) -> DeadLetter:
    row = OutboxMessage.objects.get(name="toyapi.CounterIncremented", payload__id=counter_id)
    messaging.record_dead_letter("toy-counters", envelope=envelope_of(row), deliveries=5,
                                 exc=RuntimeError("toy fault on delivery 5"))
    return DeadLetter.objects.get(message_id=str(row.message_id))


def act(client, model: str, action: str, *pks):
    return client.post(f"/admin/eventstore/{model}/", {"action": action, "_selected_action": [str(p) for p in pks]},
                       follow=True)


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_superuser_sees_every_kernel_table_and_the_detail_pages(client, superuser):
    counter_id = open_counter(3)
    dead = dead_letter_for(counter_id)
    index = client.get("/admin/").content.decode()
    for model in KERNEL_PAGES:
        assert f"/admin/eventstore/{model}/" in index
        assert client.get(f"/admin/eventstore/{model}/").status_code == 200
    events = client.get("/admin/eventstore/storedevent/", {"q": counter_id}).content.decode()
    assert "toy.CounterIncremented" in events and "toy.CounterOpened" in events
    assert client.get("/admin/eventstore/storedevent/", {"q": "no-such-stream"}).context["cl"].result_count == 0
    detail = client.get(f"/admin/eventstore/deadletter/{dead.pk}/change/").content.decode()
    assert "RuntimeError: toy fault on delivery 5" in detail and dead.message_id in detail
    assert "Save" not in detail


def test_staff_without_superuser_cannot_see_or_act_on_kernel_tables(client, staff):
    counter_id = open_counter(1)
    dead = dead_letter_for(counter_id)
    index = client.get("/admin/").content.decode()
    for model in KERNEL_PAGES:
        assert f"/admin/eventstore/{model}/" not in index
        assert client.get(f"/admin/eventstore/{model}/").status_code == 403
    assert act(client, "deadletter", "replay", dead.pk).status_code == 403
    assert act(client, "outboxmessage", "republish", OutboxMessage.objects.first().pk).status_code == 403
    dead.refresh_from_db()
    assert dead.replayed_at is None and not Tally.objects.filter(counter_id=counter_id).exists()


def test_superuser_republishes_outbox_rows(client, superuser):
    open_counter(1)
    OutboxMessage.objects.update(published_at=timezone.now())
    rows = list(OutboxMessage.objects.order_by("position"))
    response = act(client, "outboxmessage", "republish", rows[1].pk)
    assert "Messages queued for republishing: 1" in page_messages(response)
    assert [r.published_at is None for r in OutboxMessage.objects.order_by("position")] == [False, True]


def test_superuser_replays_and_discards_dead_letters(client, superuser):
    replayed_counter, discarded_counter = open_counter(4), open_counter(6)
    to_replay, to_discard = dead_letter_for(replayed_counter), dead_letter_for(discarded_counter)

    response = act(client, "deadletter", "replay", to_replay.pk)
    assert "Dead letters replayed: 1" in page_messages(response)
    to_replay.refresh_from_db()
    assert to_replay.replayed_at is not None and to_replay.replay_count == 1
    assert Tally.objects.get(counter_id=replayed_counter).total == 4
    assert InboxMessage.objects.filter(consumer="toy-counters", message_id=to_replay.message_id).exists()

    response = act(client, "deadletter", "discard", to_discard.pk)
    assert "Dead letters discarded: 1" in page_messages(response)
    to_discard.refresh_from_db()
    assert to_discard.discarded_at is not None and to_discard.replayed_at is None
    assert not Tally.objects.filter(counter_id=discarded_counter).exists()
    pending = client.get("/admin/eventstore/deadletter/", {"status": "pending"}).context["cl"].result_count
    assert pending == 0


def listed(client, model: str, status: str) -> set:
    return {row.pk for row in client.get(f"/admin/eventstore/{model}/", {"status": status}).context["cl"].result_list}


def test_the_status_filters_list_outbox_rows_and_dead_letters_by_state(client, superuser):
    for by in (1, 2, 3):
        open_counter(by)
    published, pending, dead = [row.pk for row in OutboxMessage.objects.filter(name="toyapi.CounterIncremented")
                                .order_by("position")]
    OutboxMessage.objects.filter(pk=published).update(published_at=timezone.now())
    OutboxMessage.objects.filter(pk=dead).update(dead_lettered_at=timezone.now())
    letters = [dead_letter_for(counter_id) for counter_id in (open_counter(4), open_counter(5), open_counter(6))]
    act(client, "deadletter", "replay", letters[0].pk)
    act(client, "deadletter", "discard", letters[1].pk)

    assert pending in listed(client, "outboxmessage", "pending")
    assert not {published, dead} & listed(client, "outboxmessage", "pending")
    assert published in listed(client, "outboxmessage", "published") and pending not in listed(
        client, "outboxmessage", "published")
    assert listed(client, "outboxmessage", "dead-lettered") == {dead}
    assert listed(client, "deadletter", "pending") == {letters[2].pk}
    assert listed(client, "deadletter", "replayed") == {letters[0].pk}
    assert listed(client, "deadletter", "discarded") == {letters[1].pk}
    assert len(listed(client, "deadletter", "")) == 3


def test_failed_replay_from_the_admin_keeps_the_dead_letter_and_records_the_new_error(client, superuser):
    dead = dead_letter_for(open_counter(2))
    DeadLetter.objects.filter(pk=dead.pk).update(consumer="gone-consumer")
    response = act(client, "deadletter", "replay", dead.pk)
    assert any("failed again" in m and "not declared" in m for m in page_messages(response))
    dead.refresh_from_db()
    assert dead.replayed_at is None and dead.error["type"] == "NotReplayable"


def test_retry_current_step_reports_refusals_of_the_saga_framework(client, superuser):
    unknown = SagaInstance.objects.create(saga_name="toy.NoSuchSaga", saga_id="s-1", data={}, step=1)
    response = act(client, "sagainstance", "retry_current_step", unknown.pk)
    assert any("the saga toy.NoSuchSaga is not known" in m for m in page_messages(response))
