"""The saga orchestrator (events.md §6.2) on the toy shipment saga, delivered in-process through the inbox code."""

import contextlib
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from eventstore import messaging, outbox, sagas
from eventstore.contracts import Success
from eventstore.errors import ConcurrencyError, DomainError, OutboxError
from eventstore.models import InboxMessage, OutboxMessage, SagaInstance
from eventstore.testing import capture_outbox, deliver_all, envelope_of
from toyapp.models import SagaParticipant, Shipment
from toyapp.saga import REPLIES, SHIPMENT, start_shipment

pytestmark = pytest.mark.django_db

SAGA_KEYS = ("COMMAND_SAGA_ID", "COMMAND_SAGA_NAME", "COMMAND_SAGA_STEP", "COMMAND_SAGA_COMPENSATING",
             "COMMAND_REPLY_CHANNEL")


def given_shipment() -> str:
    shipment_id = str(uuid.uuid4())
    start_shipment(shipment_id, item="lamp", quantity=2)
    return shipment_id


def given_failing(command: str, text: str) -> None:
    SagaParticipant.objects.update_or_create(command=command, defaults={"fail_with": text})


def deliver() -> None:
    deliver_all(modules=["toy"])


def deliver_dropping(*lost: str) -> None:
    """Like ``deliver_all`` but messages named in ``lost`` vanish (a participant that never answers)."""
    durables = messaging.durables(["toy"])
    while rows := list(OutboxMessage.objects.filter(published_at__isnull=True).order_by("position")):
        OutboxMessage.objects.filter(position__in=[r.position for r in rows]).update(published_at=timezone.now())
        for row in rows:
            for durable in durables:
                if row.name not in lost and durable.subject == row.subject:
                    messaging.handle(durable, envelope_of(row))


def saga_of(shipment_id: str) -> SagaInstance:
    return SagaInstance.objects.get(saga_name="toy.Shipment", saga_id=shipment_id)


def commands(captured) -> list[tuple[str, str, str]]:
    """(name, step, compensating) of every saga command captured, in order."""
    return [(m.name, m.metadata["COMMAND_SAGA_STEP"], m.metadata["COMMAND_SAGA_COMPENSATING"])
            for m in captured.messages if "COMMAND_SAGA_STEP" in m.metadata]


def later(seconds: float = 0):
    return timezone.now() + timedelta(seconds=seconds)


def timeout_passed(times: int = 1):
    from django.conf import settings

    return later(times * (settings.SAGA_STEP_TIMEOUT_SECONDS + 1))


def test_start_stores_the_instance_and_sends_the_first_action_with_saga_headers():
    with capture_outbox() as captured:
        shipment_id = given_shipment()
    instance = saga_of(shipment_id)
    assert (instance.step, instance.compensating, instance.status, instance.resends) == (1, False, "running", 0)
    assert instance.data == {"item": "lamp", "quantity": 2, "reservation_id": ""}
    assert instance.step_sent_at is not None
    [command] = captured.messages
    assert (command.name, command.subject, command.payload) == (
        "toyapi.Reserve", "mallbots.toy.warehouse.commands", {"shipment_id": shipment_id, "item": "lamp", "quantity": 2})
    assert {key: command.metadata[key] for key in SAGA_KEYS} == {
        "COMMAND_SAGA_ID": shipment_id, "COMMAND_SAGA_NAME": "toy.Shipment", "COMMAND_SAGA_STEP": "1",
        "COMMAND_SAGA_COMPENSATING": "false", "COMMAND_REPLY_CHANNEL": REPLIES}


@pytest.mark.django_db(transaction=True)
def test_start_outside_a_transaction_is_refused():
    with pytest.raises(OutboxError):
        sagas.start(SHIPMENT, "s-1", {"item": "x", "quantity": 1, "reservation_id": ""})
    assert not SagaInstance.objects.exists()


def test_the_reply_durable_handles_success_failure_and_every_step_reply():
    durable = messaging.get_durable("toy-saga-replies")
    assert durable.subject == REPLIES
    assert sorted(durable.handlers) == ["am.Failure", "am.Success", "toyapi.Reserved"]
    assert sagas.registered("toy.Shipment") is SHIPMENT


def test_given_all_participants_succeed_when_replies_arrive_then_the_saga_completes():
    with capture_outbox() as captured:
        shipment_id = given_shipment()
        deliver()
    assert captured.names == ["toyapi.Reserve", "toyapi.Reserved", "toyapi.Book", "am.Success",
                              "toyapi.CloseShipment", "am.Success"]
    assert commands(captured) == [("toyapi.Reserve", "1", "false"), ("toyapi.Book", "2", "false"),
                                  ("toyapi.CloseShipment", "3", "false")]
    assert captured.named("toyapi.Book")[0].payload == {"shipment_id": shipment_id,
                                                        "reservation_id": f"r-{shipment_id}"}
    instance = saga_of(shipment_id)
    assert (instance.status, instance.step, instance.last_error) == ("completed", 3, "")
    assert instance.data["reservation_id"] == f"r-{shipment_id}"
    assert instance.version == 4
    assert Shipment.objects.get(id=shipment_id).status == "closed"


def test_given_a_later_step_fails_then_earlier_steps_are_compensated_downward_with_the_failure_text():
    given_failing("toyapi.Book", "no courier today")
    with capture_outbox() as captured:
        shipment_id = given_shipment()
        deliver()
    assert commands(captured) == [("toyapi.Reserve", "1", "false"), ("toyapi.Book", "2", "false"),
                                  ("toyapi.Release", "1", "true"), ("toyapi.AbortShipment", "0", "true")]
    assert captured.named("toyapi.Release")[0].payload == {"id": f"r-{shipment_id}"}
    assert captured.named("toyapi.AbortShipment")[0].payload == {"id": shipment_id, "reason": "no courier today"}
    instance = saga_of(shipment_id)
    assert (instance.status, instance.compensating, instance.step, instance.last_error) == (
        "compensated", True, 0, "no courier today")
    shipment = Shipment.objects.get(id=shipment_id)
    assert (shipment.status, shipment.reason) == ("aborted", "no courier today")


def test_given_the_first_step_fails_then_the_failed_step_itself_is_not_compensated():
    given_failing("toyapi.Reserve", "out of stock")
    with capture_outbox() as captured:
        shipment_id = given_shipment()
        deliver()
    assert commands(captured) == [("toyapi.Reserve", "1", "false"), ("toyapi.AbortShipment", "0", "true")]
    assert (saga_of(shipment_id).status, saga_of(shipment_id).last_error) == ("compensated", "out of stock")


def test_given_a_compensation_fails_then_the_saga_is_failed_with_its_text():
    given_failing("toyapi.Book", "no courier today")
    given_failing("toyapi.AbortShipment", "desk closed")
    shipment_id = given_shipment()
    deliver()
    instance = saga_of(shipment_id)
    assert (instance.status, instance.compensating, instance.step, instance.last_error) == (
        "failed", True, 0, "desk closed")
    assert SagaParticipant.objects.get(command="toyapi.Release").handled == 1


def test_given_the_shipment_was_cancelled_meanwhile_then_forward_success_compensates_from_the_current_step():
    shipment_id = given_shipment()
    Shipment.objects.filter(id=shipment_id).update(cancelled=True)
    with capture_outbox() as captured:
        deliver()
    assert commands(captured) == [("toyapi.Release", "1", "true"), ("toyapi.AbortShipment", "0", "true")]
    assert captured.named("toyapi.Release")[0].payload == {"id": f"r-{shipment_id}"}
    assert "toyapi.Book" not in captured.names
    instance = saga_of(shipment_id)
    assert (instance.status, instance.last_error) == ("compensated", "")


def test_given_a_command_was_re_sent_when_both_replies_arrive_then_the_second_is_ignored_as_late():
    shipment_id = given_shipment()
    assert sagas.check_timeouts(now=timeout_passed()) == 1
    with capture_outbox() as captured:
        deliver()
    assert SagaParticipant.objects.get(command="toyapi.Reserve").handled == 2
    assert captured.names.count("toyapi.Reserved") == 2
    assert commands(captured) == [("toyapi.Book", "2", "false"), ("toyapi.CloseShipment", "3", "false")]
    assert saga_of(shipment_id).status == "completed"


def reply(shipment_id: str, *, step: str, compensating: str = "false", name: str = "toy.Shipment") -> None:
    with transaction.atomic():
        outbox.publish(Success(), subject=REPLIES, headers={
            "REPLY_SAGA_ID": shipment_id, "REPLY_SAGA_NAME": name, "REPLY_SAGA_STEP": step,
            "REPLY_SAGA_COMPENSATING": compensating, "REPLY_OUTCOME": "SUCCESS"})


@pytest.mark.parametrize("step, compensating, name, saga_id", [
    ("0", "false", "toy.Shipment", None),
    ("1", "true", "toy.Shipment", None),
    ("1", "false", "toy.Unknown", None),
    ("1", "false", "toy.Shipment", "no-such-saga"),
])
def test_replies_that_do_not_match_the_current_step_direction_saga_or_instance_are_acknowledged_and_ignored(
        step, compensating, name, saga_id):
    shipment_id = given_shipment()
    OutboxMessage.objects.update(published_at=timezone.now())
    before = saga_of(shipment_id)
    reply(saga_id or shipment_id, step=step, compensating=compensating, name=name)
    with capture_outbox() as captured:
        deliver()
    assert captured.messages == []
    after = saga_of(shipment_id)
    assert (after.step, after.status, after.version) == (before.step, before.status, before.version)
    assert InboxMessage.objects.filter(consumer="toy-saga-replies").count() == 1


def test_replies_to_a_finished_saga_are_ignored():
    shipment_id = given_shipment()
    deliver()
    reply(shipment_id, step="3")
    with capture_outbox() as captured:
        deliver()
    assert captured.messages == []
    assert saga_of(shipment_id).status == "completed"


def test_given_no_reply_when_the_timeout_passes_then_the_same_command_is_re_sent_with_a_new_message_id():
    with capture_outbox() as first:
        shipment_id = given_shipment()
    assert sagas.check_timeouts(now=later(5)) == 0
    resent_at = timeout_passed()
    with capture_outbox() as second:
        assert sagas.check_timeouts(now=resent_at) == 1
    [original], [resent] = first.messages, second.messages
    assert resent.id != original.id
    assert (resent.name, resent.payload) == (original.name, original.payload)
    assert {k: resent.metadata[k] for k in SAGA_KEYS} == {k: original.metadata[k] for k in SAGA_KEYS}
    instance = saga_of(shipment_id)
    assert (instance.resends, instance.step_sent_at, instance.status, instance.step) == (1, resent_at, "running", 1)
    assert sagas.check_timeouts(now=resent_at + timedelta(seconds=5)) == 0


def test_given_a_forward_step_never_answers_then_after_max_resends_it_fails_as_timed_out(settings):
    settings.SAGA_MAX_RESENDS = 2
    shipment_id = given_shipment()
    deliver_dropping("toyapi.Book")
    with capture_outbox() as captured:
        for times in (1, 2, 3):
            assert sagas.check_timeouts(now=timeout_passed(times)) == 1
    assert commands(captured) == [("toyapi.Book", "2", "false"), ("toyapi.Book", "2", "false"),
                                  ("toyapi.Release", "1", "true")]
    instance = saga_of(shipment_id)
    assert (instance.status, instance.step, instance.resends, instance.last_error) == (
        "compensating", 1, 0, "the saga step timed out")
    deliver()
    assert saga_of(shipment_id).status == "compensated"
    assert Shipment.objects.get(id=shipment_id).reason == "the saga step timed out"


def test_given_a_compensation_never_answers_then_after_max_resends_the_saga_is_failed(settings):
    settings.SAGA_MAX_RESENDS = 1
    given_failing("toyapi.Book", "no courier today")
    shipment_id = given_shipment()
    deliver_dropping("toyapi.Release")
    with capture_outbox() as captured:
        assert sagas.check_timeouts(now=timeout_passed(1)) == 1
        assert sagas.check_timeouts(now=timeout_passed(2)) == 1
    assert commands(captured) == [("toyapi.Release", "1", "true")]
    instance = saga_of(shipment_id)
    assert (instance.status, instance.step, instance.compensating, instance.last_error) == (
        "failed", 1, True, "the saga step timed out")
    assert sagas.check_timeouts(now=timeout_passed(3)) == 0


def reply_envelope(name: str):
    return envelope_of(OutboxMessage.objects.filter(name=name).order_by("-position").first())


def test_given_the_instance_changed_after_it_was_read_then_the_reply_rolls_back_and_succeeds_on_redelivery(
        monkeypatch):
    shipment_id = given_shipment()
    deliver_dropping("toyapi.Reserved")
    envelope = reply_envelope("toyapi.Reserved")
    bumped = []

    def store_then_race(data, message):
        data["reservation_id"] = message.id
        if not bumped:
            bumped.append(SagaInstance.objects.filter(saga_id=shipment_id).update(version=F("version") + 1))

    monkeypatch.setitem(SHIPMENT.steps[1].reply_handlers, "toyapi.Reserved", store_then_race)
    durable = messaging.get_durable("toy-saga-replies")
    with capture_outbox() as captured:
        with pytest.raises(ConcurrencyError):
            messaging.handle(durable, envelope, delivery=1)
    assert captured.messages == []
    assert not InboxMessage.objects.filter(consumer="toy-saga-replies").exists()
    assert (saga_of(shipment_id).step, saga_of(shipment_id).data["reservation_id"]) == (1, "")
    assert messaging.handle(durable, envelope, delivery=2) is messaging.Outcome.HANDLED
    assert (saga_of(shipment_id).step, saga_of(shipment_id).data["reservation_id"]) == (2, f"r-{shipment_id}")


@contextlib.contextmanager
def a_reply_held_after_its_read(monkeypatch, envelope):
    """The reply handled in another thread and held once it read its instance, until the block ends; yields the
    outcome (``"handled"`` or the ``ConcurrencyError``) as ``outcome["result"]`` after the block."""
    read, go_on = threading.Event(), threading.Event()
    outcome = {}

    def pause_after_read(data, message):
        read.set()
        go_on.wait(10)
        data["reservation_id"] = message.id

    def handle_in_thread():
        try:
            messaging.handle(messaging.get_durable("toy-saga-replies"), envelope, delivery=1)
            outcome["result"] = "handled"
        except ConcurrencyError as exc:
            outcome["result"] = exc
        finally:
            connection.close()

    monkeypatch.setitem(SHIPMENT.steps[1].reply_handlers, "toyapi.Reserved", pause_after_read)
    worker = threading.Thread(target=handle_in_thread)
    worker.start()
    assert read.wait(10)
    try:
        yield outcome
    finally:
        go_on.set()
        worker.join(10)
        monkeypatch.undo()


def resent_on_timeout(shipment_id: str) -> None:
    assert sagas.check_timeouts(now=timeout_passed()) == 1


def amended(shipment_id: str) -> None:
    with transaction.atomic():
        sagas.amend(SHIPMENT, shipment_id, {"note": "amended"})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change, after_conflict, after_redelivery", [
    (resent_on_timeout, lambda row: (row.step, row.resends) == (1, 1), lambda row: row.step == 2),
    (amended, lambda row: (row.step, row.data["note"]) == (1, "amended"),
     lambda row: (row.step, row.data["note"]) == (2, "amended")),
], ids=["timeout-resend", "amend"])
def test_given_another_change_commits_while_a_reply_is_in_flight_then_the_reply_conflicts_and_is_redelivered(
        monkeypatch, change, after_conflict, after_redelivery):
    shipment_id = given_shipment()
    deliver_dropping("toyapi.Reserved")
    envelope = reply_envelope("toyapi.Reserved")
    with a_reply_held_after_its_read(monkeypatch, envelope) as outcome:
        change(shipment_id)
    assert isinstance(outcome["result"], ConcurrencyError)
    assert after_conflict(saga_of(shipment_id))
    assert messaging.handle(messaging.get_durable("toy-saga-replies"), envelope, delivery=2) is messaging.Outcome.HANDLED
    assert after_redelivery(saga_of(shipment_id))


def test_amend_merges_into_a_running_instance_raising_its_version_and_leaves_a_finished_one_alone():
    running, finished = given_shipment(), given_shipment()
    SagaInstance.objects.filter(saga_id=finished).update(status="compensated")
    before = {i.saga_id: i.version for i in SagaInstance.objects.all()}
    with transaction.atomic():
        sagas.amend(SHIPMENT, running, {"note": "cancelled at the kiosk"})
        sagas.amend(SHIPMENT, finished, {"note": "too late"})
    assert saga_of(running).data == {**saga_of(finished).data, "note": "cancelled at the kiosk"}
    assert (saga_of(running).version, saga_of(finished).version) == (before[running] + 1, before[finished])


@pytest.mark.django_db(transaction=True)
def test_amend_outside_a_transaction_is_refused():
    with pytest.raises(OutboxError):
        sagas.amend(SHIPMENT, given_shipment(), {"note": "x"})


def test_given_a_failed_saga_when_the_operator_retries_then_the_compensation_is_sent_again_and_can_finish():
    given_failing("toyapi.Book", "no courier today")
    given_failing("toyapi.AbortShipment", "desk closed")
    shipment_id = given_shipment()
    deliver()
    SagaParticipant.objects.filter(command="toyapi.AbortShipment").update(fail_with="")
    with capture_outbox() as captured:
        instance = sagas.retry_current_step(saga_of(shipment_id))
    assert (instance.status, instance.step, instance.compensating, instance.resends) == ("compensating", 0, True, 0)
    assert commands(captured) == [("toyapi.AbortShipment", "0", "true")]
    assert captured.messages[0].payload == {"id": shipment_id, "reason": "desk closed"}
    deliver()
    assert saga_of(shipment_id).status == "compensated"
    assert Shipment.objects.get(id=shipment_id).status == "aborted"


def test_retrying_a_running_saga_re_sends_its_current_command_and_a_finished_one_is_refused():
    shipment_id = given_shipment()
    with capture_outbox() as captured:
        instance = sagas.retry_current_step(saga_of(shipment_id))
    assert commands(captured) == [("toyapi.Reserve", "1", "false")]
    assert (instance.status, instance.step) == ("running", 1)
    deliver()
    with pytest.raises(DomainError):
        sagas.retry_current_step(saga_of(shipment_id))


# Optional end-to-end check: the same toy saga through the real relay and consumer processes.
@pytest.mark.nats
@pytest.mark.subprocess
@pytest.mark.django_db(transaction=True)
def test_processes_given_relay_and_consumers_running_when_a_saga_starts_then_it_completes(fresh_stream, tmp_path):
    from eventstore.tests.consumer_support import run_consumers
    from eventstore.tests.processes import run_command, subprocess_env, wait_until

    with run_command("run_relay", env=subprocess_env(), log_path=tmp_path / "relay.log"), \
            run_consumers(tmp_path) as consumers:
        consumers.wait_for_log("consuming mallbots.toy.replies.Shipment")
        shipment_id = given_shipment()
        wait_until(lambda: saga_of(shipment_id).status == "completed", 30, "the saga to complete")
    assert Shipment.objects.get(id=shipment_id).status == "closed"
    assert saga_of(shipment_id).data["reservation_id"] == f"r-{shipment_id}"
    assert InboxMessage.objects.filter(consumer="toy-saga-replies").count() == 3
