"""Test helpers: in-process delivery through the real inbox/transaction code, and outbox capture."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable, Iterator

from django.db.models import Max
from django.utils import timezone

from eventstore import codec
from eventstore.envelope import Envelope
from eventstore.errors import RetryLater
from eventstore.messaging import Durable, durables, handle
from eventstore.models import OutboxMessage


def envelope_of(row: OutboxMessage) -> Envelope:
    return Envelope(id=str(row.message_id), name=row.name, subject=row.subject, payload=row.payload,
                    metadata=row.metadata, sent_at=codec.format_timestamp(row.sent_at))


@dataclass
class Delivery:
    durable: Durable
    envelope: Envelope
    attempts: int = 0


def deliver_all(*, modules: list[str] | None = None, until: Callable[[], bool] | None = None,
                max_rounds: int = 200, max_retries: int = 20) -> int:
    """Deliver unpublished outbox rows, in position order, to every declared durable on their subject.

    Each row is marked published as it is taken. Each delivery goes through ``messaging.handle`` (inbox
    first, one transaction), exactly like the NATS consumer runner. A handler raising ``RetryLater`` is
    retried after the other messages of the round (at most ``max_retries`` times); other errors propagate.
    ``until()`` is checked before each row: when it is true delivery stops and the remaining rows stay
    unpublished. Repeats until nothing is left; returns the number of handled deliveries.
    """
    targets = durables(modules)
    waiting: list[Delivery] = []
    handled = 0
    for _ in range(max_rounds):
        rows = list(OutboxMessage.objects.filter(published_at__isnull=True, dead_lettered_at__isnull=True)
                    .order_by("position"))
        if not rows and not waiting:
            return handled
        progress = False
        retry, waiting = waiting, []
        for item in retry:
            handled, progress = _attempt(item, waiting, max_retries, handled, progress)
        for row in rows:
            if until is not None and until():
                return handled
            OutboxMessage.objects.filter(position=row.position).update(published_at=timezone.now())
            progress = True
            for durable in targets:
                if durable.subject == row.subject:
                    handled, _ = _attempt(Delivery(durable, envelope_of(row)), waiting, max_retries, handled, True)
        if not progress:
            raise RetryLater(f"{len(waiting)} message(s) still waiting: {[w.envelope.name for w in waiting]}")
    raise RuntimeError("deliver_all did not settle")


def _attempt(item: Delivery, waiting: list[Delivery], max_retries: int, handled: int, progress: bool):
    item.attempts += 1
    try:
        handle(item.durable, item.envelope, delivery=item.attempts)
    except RetryLater:
        if item.attempts >= max_retries:
            raise
        waiting.append(item)
        return handled, progress
    return handled + 1, True


@dataclass
class Captured:
    """Messages written to the outbox inside a ``capture_outbox()`` block, in order."""

    messages: list[Envelope] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.messages]

    def named(self, name: str) -> list[Envelope]:
        return [m for m in self.messages if m.name == name]


@contextlib.contextmanager
def capture_outbox() -> Iterator[Captured]:
    start = OutboxMessage.objects.aggregate(top=Max("position"))["top"] or 0
    captured = Captured()
    yield captured
    captured.messages = [envelope_of(r) for r in OutboxMessage.objects.filter(position__gt=start).order_by("position")]
