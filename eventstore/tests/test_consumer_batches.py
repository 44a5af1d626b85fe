"""``process_batch``: a fetched batch shares one transaction (group commit) and falls back to one by one."""

import dataclasses
import logging
import uuid

import pytest

from eventstore import messaging
from eventstore.processing import SKIPPED, STOPPING, Delivered, Verdict, process_batch, skipped
from eventstore.envelope import Envelope
from eventstore.models import DeadLetter, InboxMessage
from eventstore.tests.consumer_support import increments, tally
from toyapp.models import Fault

pytestmark = pytest.mark.django_db(transaction=True)
HANDLED = Verdict("ack", "handled")


def durable() -> messaging.Durable:
    return messaging.get_durable("toy-counters")


def delivered(*envelopes: Envelope, delivery: int = 1) -> list[Delivered]:
    return [Delivered(e.to_json(), delivery, e.subject, e.id) for e in envelopes]


def with_payload(envelope: Envelope, **payload) -> Envelope:
    return dataclasses.replace(envelope, id=str(uuid.uuid4()), payload={**envelope.payload, **payload})


def inbox_of(*envelopes: Envelope) -> list[InboxMessage]:
    return list(InboxMessage.objects.filter(consumer="toy-counters", message_id__in=[e.id for e in envelopes]))


def test_given_first_deliveries_when_processed_as_a_batch_then_they_share_one_transaction_in_stream_order():
    counter_id, envelopes = increments(1, 2, 3)

    verdicts = process_batch(durable(), delivered(*envelopes))

    assert verdicts == [HANDLED] * 3
    row = tally(counter_id)
    assert (row.total, row.handled, row.order) == (6, 3, [1, 2, 3])
    assert len({inbox.received_at for inbox in inbox_of(*envelopes)}) == 1


@pytest.mark.parametrize("count", [1, 2])
def test_given_deliveries_parsed_by_the_runner_then_the_worker_does_not_parse_them_again(count, monkeypatch):
    counter_id, envelopes = increments(*range(1, count + 1))
    batch = [Delivered.parsed(e.to_json(), 1, e.subject, e.id) for e in envelopes]
    monkeypatch.setattr(Envelope, "from_json", classmethod(lambda cls, data: pytest.fail("parsed twice")))

    assert process_batch(durable(), batch) == [HANDLED] * count
    assert tally(counter_id).handled == count


def test_given_an_already_handled_message_in_a_batch_then_it_is_a_duplicate_without_a_second_effect():
    counter_id, (first, second) = increments(1, 2)
    process_batch(durable(), delivered(first))

    verdicts = process_batch(durable(), delivered(first, second))

    assert verdicts == [Verdict("ack", "duplicate"), HANDLED]
    assert (tally(counter_id).total, tally(counter_id).handled) == (3, 2)


def test_given_one_failing_handler_in_a_batch_then_the_others_are_handled_once_and_only_it_is_retried():
    counter_id, (first, last) = increments(1, 3)
    overflowing = with_payload(first, by=2 ** 40)

    verdicts = process_batch(durable(), delivered(first, overflowing, last))

    assert verdicts[0] == HANDLED and verdicts[2] == HANDLED
    assert (verdicts[1].action, verdicts[1].outcome) == ("nak", "retry")
    row = tally(counter_id)
    assert (row.total, row.handled, row.order) == (4, 2, [1, 3])
    assert {str(inbox.message_id) for inbox in inbox_of(first, overflowing, last)} == {first.id, last.id}


def test_given_redeliveries_then_each_message_runs_in_its_own_transaction_with_its_delivery_count():
    counter_id, envelopes = increments(1, 2)
    Fault.objects.create(durable="toy-counters", fail_first_deliveries=2)

    assert [v.action for v in process_batch(durable(), delivered(*envelopes, delivery=2))] == ["nak", "nak"]
    assert process_batch(durable(), delivered(*envelopes, delivery=3)) == [HANDLED, HANDLED]
    assert len({inbox.received_at for inbox in inbox_of(*envelopes)}) == 2
    assert tally(counter_id).order == [1, 2]


def test_given_an_unparseable_message_in_a_batch_then_it_is_dead_lettered_and_the_others_are_handled():
    counter_id, (first, last) = increments(1, 2)
    garbage = Delivered(b"{not json", 1, first.subject, "garbage-batch")

    verdicts = process_batch(durable(), [*delivered(first), garbage, *delivered(last)])

    assert verdicts == [HANDLED, Verdict("term", "dead-lettered"), HANDLED]
    assert DeadLetter.objects.filter(message_id="garbage-batch").exists()
    assert tally(counter_id).order == [1, 2]


def test_given_the_runner_stopping_then_no_message_of_the_batch_runs_and_each_is_nakked():
    counter_id, envelopes = increments(1, 2)

    assert process_batch(durable(), delivered(*envelopes), stopping=lambda: True) == [STOPPING, STOPPING]
    assert tally(counter_id) is None or tally(counter_id).handled == 0
    assert inbox_of(*envelopes) == []


def unhandled(envelope: Envelope) -> Envelope:
    return dataclasses.replace(envelope, id=str(uuid.uuid4()), name="toyapi.NotHandledHere")


def test_given_only_names_the_durable_does_not_handle_then_skipped_acks_them_as_process_batch_would():
    _, (first, second) = increments(1, 2)
    batch = delivered(unhandled(first), unhandled(second))

    assert skipped(durable(), batch) == process_batch(durable(), batch) == [SKIPPED, SKIPPED]
    assert inbox_of(*[Envelope.from_json(item.data) for item in batch]) == []


def test_given_a_handled_name_or_an_unparseable_message_then_skipped_leaves_the_batch_to_process_batch():
    _, (first,) = increments(1)
    garbage = Delivered(b"not json", 1, "mallbots.toy.events.Counter", "garbage-2")

    assert skipped(durable(), delivered(unhandled(first), first)) is None
    assert skipped(durable(), [*delivered(unhandled(first)), garbage]) is None
    assert inbox_of(first) == []


def test_a_handled_message_is_logged_at_debug_and_a_duplicate_at_info(caplog):
    _, [envelope] = increments(4)
    with caplog.at_level(logging.DEBUG, logger="mallbots.consumers"):
        assert process_batch(durable(), delivered(envelope)) == [HANDLED]
        assert process_batch(durable(), delivered(envelope, delivery=2)) == [Verdict("ack", "duplicate")]
    assert [(r.levelno, r.getMessage().split(" outcome=")[1].split()[0]) for r in caplog.records
            if envelope.id in r.getMessage()] == [(logging.DEBUG, "handled"), (logging.INFO, "duplicate")]
