"""Kernel defects found in review (issue 11): a queued write dropped while the caller believes it committed
(defect 3) and a timeout sweep that one bad saga instance can stop (defect 4); real PostgreSQL."""

import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from eventstore import messaging, outbox, sagas
from eventstore.commands import send_command
from eventstore.models import InboxMessage, OutboxMessage, SagaInstance
from eventstore.testing import envelope_of
from toyapp.consumers import CheckTitle
from toyapp.contracts import CounterOpened
from toyapp.saga import start_shipment


@pytest.mark.django_db
def test_defect_3_a_deferred_write_in_a_transaction_marked_for_rollback_raises_instead_of_vanishing():
    with pytest.raises(TransactionManagementError):
        with transaction.atomic():
            transaction.set_rollback(True)
            outbox.publish(CounterOpened(id="c-1", title="t", limit=0))
    assert not OutboxMessage.objects.filter(payload__id="c-1").exists()


@pytest.mark.django_db(transaction=True)
def test_defect_3_a_business_rejection_whose_rollback_fails_still_commits_exactly_one_failure_reply():
    """Rejections no longer roll back to a savepoint (ADR 28): the message's transaction rolls back and the
    Failure reply commits in a new one. A rollback that fails drops the connection (the server then aborts
    the transaction); the reply's transaction opens a new one."""
    with transaction.atomic():
        send_command(CheckTitle(title="  "), reply_channel="mallbots.toy.replies")
    command = envelope_of(OutboxMessage.objects.get(name="toyapi.CheckTitle"))
    durable = messaging.get_durable("toy-commands")
    real_rollback = connection.rollback
    failures = []

    def rollback_fails_once():
        if not failures:
            failures.append(True)
            raise OperationalError("server closed the connection unexpectedly")
        return real_rollback()

    with mock.patch.object(connection, "rollback", side_effect=rollback_fails_once):
        assert messaging.handle(durable, command) is messaging.Outcome.HANDLED

    assert failures
    assert InboxMessage.objects.filter(message_id=command.id).count() == 1
    assert OutboxMessage.objects.filter(name="am.Failure").count() == 1
    assert messaging.handle(durable, command) is messaging.Outcome.DUPLICATE


def _timed_out() -> timezone.datetime:
    return timezone.now() + timedelta(seconds=settings.SAGA_STEP_TIMEOUT_SECONDS + 1)


@pytest.mark.django_db(transaction=True)
def test_defect_4_one_instance_that_fails_in_the_sweep_does_not_stop_the_others():
    broken, healthy = str(uuid.uuid4()), str(uuid.uuid4())
    start_shipment(broken, item="lamp", quantity=1)
    start_shipment(healthy, item="desk", quantity=1)
    SagaInstance.objects.filter(saga_id=broken).update(
        data={"not": "what the saga expects"}, step_sent_at=timezone.now() - timedelta(hours=1))

    assert sagas.check_timeouts(now=_timed_out()) == 2
    assert sagas.check_timeouts(now=_timed_out()) == 0

    broken_row, healthy_row = SagaInstance.objects.get(saga_id=broken), SagaInstance.objects.get(saga_id=healthy)
    assert healthy_row.resends == 1
    assert broken_row.status == sagas.FAILED
    assert broken_row.last_error.startswith("timeout sweep: KeyError")


@pytest.mark.django_db(transaction=True)
def test_defect_4_due_instances_of_an_unknown_saga_do_not_fill_the_sweeps_limit():
    known = str(uuid.uuid4())
    start_shipment(known, item="lamp", quantity=1)
    long_ago = timezone.now() - timedelta(hours=1)
    SagaInstance.objects.bulk_create(
        SagaInstance(saga_name="retired.Saga", saga_id=f"old-{n}", data={}, step=1, status=sagas.RUNNING,
                     step_sent_at=long_ago) for n in range(3))

    assert sagas.check_timeouts(now=_timed_out(), limit=2) == 1
    assert SagaInstance.objects.get(saga_id=known).resends == 1
