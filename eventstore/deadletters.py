"""Dead letters: replay through the normal consumer path, or discard (architecture.md §8).

Used by ``manage.py replay_dead_letters`` and the kernel admin actions, so both behave the same.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from eventstore import codec, messaging
from eventstore.envelope import Envelope, MalformedMessage
from eventstore.models import DeadLetter

logger = logging.getLogger("mallbots.deadletters")


class NotReplayable(Exception):
    """The dead letter cannot be handed to a handler (unknown consumer, unparseable, no handler)."""


def pending() -> QuerySet[DeadLetter]:
    """Dead letters neither replayed nor discarded."""
    return DeadLetter.objects.filter(replayed_at__isnull=True, discarded_at__isnull=True)


def select(*, id: int | None = None, consumer: str | None = None, include_done: bool = False) -> QuerySet[DeadLetter]:
    """The rows a replay addresses: one id, one consumer's, or all; replayed/discarded ones only if asked."""
    rows = DeadLetter.objects.all() if include_done else pending()
    if id is not None:
        rows = rows.filter(pk=id)
    if consumer:
        rows = rows.filter(consumer=consumer)
    return rows.order_by("pk")


def envelope_of(dead_letter: DeadLetter) -> Envelope:
    """The stored message as an envelope; an unparseable one is parsed again from ``raw``."""
    if dead_letter.payload is None:
        try:
            return Envelope.from_json(dead_letter.raw)
        except MalformedMessage as exc:
            raise NotReplayable(f"the stored message is not an envelope: {exc}") from exc
    return Envelope(id=dead_letter.message_id, name=dead_letter.name, subject=dead_letter.subject,
                    payload=dead_letter.payload, metadata=dead_letter.metadata or {},
                    sent_at=codec.format_timestamp(dead_letter.sent_at) if dead_letter.sent_at else "")


def replay(dead_letter: DeadLetter) -> bool:
    """Run the consumer's handler on the stored message via ``messaging.handle`` (inbox first, one transaction).

    Success (handled now, or found in the inbox as already handled) sets ``replayed_at`` and increments
    ``replay_count``; a failure stores the new error and returns False. Database outages propagate.
    """
    try:
        try:
            durable = messaging.get_durable(dead_letter.consumer)
        except KeyError as exc:
            raise NotReplayable(f"consumer {dead_letter.consumer} is not declared in this process") from exc
        envelope = envelope_of(dead_letter)
        outcome = messaging.handle(durable, envelope, delivery=dead_letter.deliveries + 1)
        if outcome is messaging.Outcome.SKIPPED:
            raise NotReplayable(f"consumer {durable.name} does not handle {envelope.name}")
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # noqa: BLE001 - any handler error is a failed replay
        DeadLetter.objects.filter(pk=dead_letter.pk).update(error=messaging.error_record(exc))
        dead_letter.refresh_from_db()
        logger.warning("replay of dead letter %s (%s) failed: %s: %s", dead_letter.pk, dead_letter.consumer,
                       type(exc).__name__, exc)
        return False
    with transaction.atomic():
        DeadLetter.objects.filter(pk=dead_letter.pk).update(replayed_at=timezone.now(),
                                                            replay_count=F("replay_count") + 1)
    dead_letter.refresh_from_db()
    logger.info("replayed dead letter %s (%s %s): %s", dead_letter.pk, dead_letter.consumer, envelope.name,
                outcome.value)
    return True


def discard(dead_letter: DeadLetter) -> None:
    """Mark the dead letter as deliberately dropped (it stays for the record)."""
    DeadLetter.objects.filter(pk=dead_letter.pk).update(discarded_at=timezone.now())
    dead_letter.refresh_from_db()
