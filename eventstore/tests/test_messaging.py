"""The consumer core (inbox, transaction, skip/duplicate), commands and replies, deliver_all, capture_outbox."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from eventstore import messaging, transactions
from eventstore.commands import SagaHeaders, command_handler, send_command
from eventstore.errors import DomainError
from eventstore.envelope import MalformedMessage
from eventstore.models import InboxMessage, OutboxMessage
from eventstore.repository import Repository
from eventstore.testing import capture_outbox, deliver_all, envelope_of
from eventstore.tests.test_backend import sent
from toyapp.consumers import CheckTitle
from toyapp.domain import Counter
from toyapp.models import Fault, Tally

pytestmark = pytest.mark.django_db
repo = Repository(Counter)


def given_counter_with_increments(*steps: int) -> Counter:
    counter = Counter.open(str(uuid.uuid4()), "c")
    for by in steps:
        counter.increment(by)
    with transaction.atomic():
        repo.create(counter)
    return counter


def test_capture_outbox_lists_exactly_the_messages_a_block_wrote():
    given_counter_with_increments(1)
    with capture_outbox() as captured:
        given_counter_with_increments(2, 3)
    assert captured.names == ["toyapi.CounterOpened", "toyapi.CounterIncremented", "toyapi.CounterIncremented"]
    assert [m.payload["by"] for m in captured.named("toyapi.CounterIncremented")] == [2, 3]


def test_deliver_all_runs_consumers_once_per_message_in_order():
    counter = given_counter_with_increments(1, 2, 3)
    assert deliver_all() == 4
    tally = Tally.objects.get(counter_id=counter.id)
    assert (tally.total, tally.handled, tally.order) == (6, 3, [1, 2, 3])
    assert not OutboxMessage.objects.filter(published_at__isnull=True).exists()


def test_redelivered_message_is_recognised_by_the_inbox_and_has_no_second_effect():
    counter = given_counter_with_increments(5)
    durable = messaging.get_durable("toy-counters")
    envelope = envelope_of(OutboxMessage.objects.get(name="toyapi.CounterIncremented"))
    assert messaging.handle(durable, envelope) is messaging.Outcome.HANDLED
    assert messaging.handle(durable, envelope, delivery=2) is messaging.Outcome.DUPLICATE
    assert Tally.objects.get(counter_id=counter.id).total == 5
    assert InboxMessage.objects.filter(consumer="toy-counters").count() == 1


def test_the_inbox_row_travels_with_the_handlers_first_statement():
    given_counter_with_increments(5)
    durable = messaging.get_durable("toy-counters")
    envelope = envelope_of(OutboxMessage.objects.get(name="toyapi.CounterIncremented"))
    with sent() as messages:
        assert messaging.handle(durable, envelope) is messaging.Outcome.HANDLED
    queries = [text for kind, text in messages if kind == "Query"]
    with_inbox = [text for text in queries if "INSERT INTO eventstore_inbox" in text]
    assert len(with_inbox) == 1
    assert with_inbox[0].index("INSERT INTO eventstore_inbox") < with_inbox[0].index("toyapp_fault")


def test_a_duplicate_found_at_commit_rolls_back_the_handlers_writes():
    counter = given_counter_with_increments(2)
    durable = messaging.get_durable("toy-counters")
    envelope = envelope_of(OutboxMessage.objects.get(name="toyapi.CounterOpened"))
    assert messaging.handle(durable, envelope) is messaging.Outcome.HANDLED
    before = list(OutboxMessage.objects.values_list("name", flat=True))
    assert messaging.handle(durable, envelope, delivery=2) is messaging.Outcome.DUPLICATE
    assert list(OutboxMessage.objects.values_list("name", flat=True)) == before
    assert InboxMessage.objects.filter(consumer="toy-counters", name="toyapi.CounterOpened").count() == 1
    assert Tally.objects.filter(counter_id=counter.id).count() <= 1


def test_a_duplicate_inside_a_batch_transaction_dooms_the_batch():
    given_counter_with_increments(3)
    durable = messaging.get_durable("toy-counters")
    envelope = envelope_of(OutboxMessage.objects.get(name="toyapi.CounterIncremented"))
    assert messaging.handle(durable, envelope) is messaging.Outcome.HANDLED
    with pytest.raises(messaging.DuplicateDelivery):
        with transaction.atomic():
            messaging.handle(durable, envelope, delivery=1, savepoint=False)


def test_unhandled_names_are_skipped_without_an_inbox_row():
    durable = messaging.get_durable("toy-commands")
    given_counter_with_increments(1)
    envelope = envelope_of(OutboxMessage.objects.filter(name="toyapi.CounterIncremented").first())
    assert messaging.handle(durable, envelope) is messaging.Outcome.SKIPPED
    assert not InboxMessage.objects.exists()


def test_failing_handler_rolls_back_its_inbox_row_and_effects():
    Fault.objects.create(durable="toy-counters", fail_first_deliveries=1)
    counter = given_counter_with_increments(4)
    durable = messaging.get_durable("toy-counters")
    envelope = envelope_of(OutboxMessage.objects.get(name="toyapi.CounterIncremented"))
    with pytest.raises(RuntimeError):
        messaging.handle(durable, envelope, delivery=1)
    assert not InboxMessage.objects.filter(consumer="toy-counters").exists()
    assert messaging.handle(durable, envelope, delivery=2) is messaging.Outcome.HANDLED
    assert Tally.objects.get(counter_id=counter.id).total == 4


def test_payload_that_does_not_fit_its_contract_is_malformed():
    given_counter_with_increments(1)
    envelope = envelope_of(OutboxMessage.objects.get(name="toyapi.CounterIncremented"))
    broken = envelope.__class__(**{**envelope.__dict__, "payload": {"id": "x", "by": "many"}})
    with pytest.raises(MalformedMessage):
        messaging.handle(messaging.get_durable("toy-counters"), broken)


def saga_headers():
    return SagaHeaders(saga_id="s-1", saga_name="toy.Saga", step=2, compensating=False)


def test_command_success_reply_copies_command_keys_with_reply_prefix():
    with transaction.atomic():
        send_command(CheckTitle(title="hello"), reply_channel="mallbots.toy.replies", saga=saga_headers())
    [command] = OutboxMessage.objects.all()
    assert command.subject == "mallbots.toy.commands"
    assert command.metadata["COMMAND_REPLY_CHANNEL"] == "mallbots.toy.replies"
    assert command.metadata["COMMAND_SAGA_STEP"] == "2"
    with capture_outbox() as captured:
        deliver_all(modules=["toy"])
    [reply] = captured.messages
    assert (reply.name, reply.subject, reply.payload) == ("toyapi.TitleChecked", "mallbots.toy.replies", {"length": 5})
    assert {k: v for k, v in reply.metadata.items() if k.startswith("REPLY_")} == {
        "REPLY_REPLY_CHANNEL": "mallbots.toy.replies", "REPLY_SAGA_ID": "s-1", "REPLY_SAGA_NAME": "toy.Saga",
        "REPLY_SAGA_STEP": "2", "REPLY_SAGA_COMPENSATING": "false", "REPLY_OUTCOME": "SUCCESS",
    }
    assert reply.metadata["correlation_id"] == command.metadata["correlation_id"]
    assert reply.metadata["causation_id"] == str(command.message_id)


def test_business_rejection_becomes_failure_reply_and_rolls_back_handler_writes():
    with transaction.atomic():
        send_command(CheckTitle(title="  "), reply_channel="mallbots.toy.replies", saga=saga_headers())
    with capture_outbox() as captured:
        deliver_all(modules=["toy"])
    [reply] = captured.messages
    assert (reply.name, reply.payload) == ("am.Failure", {"message": "the title cannot be blank"})
    assert reply.metadata["REPLY_OUTCOME"] == "FAILURE"
    assert not Tally.objects.exists()


def given_a_command_for(monkeypatch, fn):
    """A ``toyapi.CheckTitle`` in the outbox, handled by ``@command_handler fn`` for this test only."""
    durable = messaging.get_durable("toy-commands")
    monkeypatch.setitem(durable.handlers, "toyapi.CheckTitle", command_handler(fn))
    with transaction.atomic():
        send_command(CheckTitle(title="x"), reply_channel="mallbots.toy.replies", saga=saga_headers())
    return durable, envelope_of(OutboxMessage.objects.get(name="toyapi.CheckTitle"))


def test_a_rejected_command_commits_its_inbox_row_and_failure_reply_without_what_it_wrote_before(monkeypatch):
    def write_then_refuse(received):
        Tally.objects.create(counter_id="written-before-the-refusal")
        raise DomainError("refused after writing")

    durable, envelope = given_a_command_for(monkeypatch, write_then_refuse)
    with capture_outbox() as captured:
        assert messaging.handle(durable, envelope) is messaging.Outcome.HANDLED
    assert [(m.name, m.payload) for m in captured.messages] == [("am.Failure", {"message": "refused after writing"})]
    assert not Tally.objects.exists()
    assert InboxMessage.objects.filter(consumer="toy-commands").count() == 1
    assert messaging.handle(durable, envelope, delivery=2) is messaging.Outcome.DUPLICATE


def test_a_rejection_inside_a_batch_transaction_dooms_the_batch():
    with transaction.atomic():
        send_command(CheckTitle(title=" "), reply_channel="mallbots.toy.replies", saga=saga_headers())
    envelope = envelope_of(OutboxMessage.objects.get(name="toyapi.CheckTitle"))
    with pytest.raises(messaging.Rejected), transaction.atomic():
        messaging.handle(messaging.get_durable("toy-commands"), envelope, savepoint=False)


def test_a_command_that_succeeds_takes_no_savepoint_of_its_own(monkeypatch):
    def count(received):
        Tally.objects.count()

    durable, envelope = given_a_command_for(monkeypatch, count)
    with sent() as messages:
        assert messaging.handle(durable, envelope) is messaging.Outcome.HANDLED
    texts = [text for kind, text in messages if kind == "Query"]
    savepoints = sum(text.count("SAVEPOINT ") - text.count("RELEASE SAVEPOINT ") for text in texts)
    assert savepoints == 1  # the message's transaction, nested in the test's
    assert any("INSERT INTO eventstore_inbox" in text and "toyapp_tally" in text for text in texts)


def test_command_without_reply_channel_is_executed_without_reply():
    with transaction.atomic():
        send_command(CheckTitle(title="quiet"), reply_channel=None)
    with capture_outbox() as captured:
        deliver_all(modules=["toy"])
    assert captured.messages == []
    assert Tally.objects.filter(counter_id="title-quiet").exists()


def savepoints(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SAVEPOINT")]


def test_a_use_case_inside_a_message_transaction_takes_no_savepoint_but_on_its_own_it_does():
    with CaptureQueriesContext(connection) as in_message:
        with transactions.message(savepoint=False), transactions.use_case():
            Tally.objects.create(counter_id="in-a-message")
    with CaptureQueriesContext(connection) as nested_elsewhere:
        with transaction.atomic(savepoint=False), transactions.use_case():
            Tally.objects.create(counter_id="on-its-own")
    assert savepoints(in_message) == []
    assert len(savepoints(nested_elsewhere)) == 1
