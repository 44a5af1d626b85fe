"""Kernel jobs run by django-q2 schedules (architecture.md §12; registered by ``manage.py setup_schedules``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from eventstore import context, messaging, sagas
from eventstore.models import AppliedVersion, Checkpoint, DeadLetter, InboxMessage, OutboxMessage, SagaInstance

logger = logging.getLogger("mallbots.tasks")

DEAD_LETTERS_SEEN = "eventstore.lag-check.dead-letters"
PRUNE_BATCH = 5000


def check_lag(*, jetstream: bool = True) -> dict[str, Any]:
    """Warn about an outbox older than ``LAG_WARN_SECONDS``, outbox rows the relay dead-lettered, dead letters
    written since the last run and ``failed`` sagas; report JetStream pending messages per declared durable
    (best effort, bounded).

    Remembers the newest dead letter it reported in the checkpoint ``eventstore.lag-check.dead-letters``.
    Returns what it found.
    """
    report: dict[str, Any] = {"outbox_age_seconds": _outbox_age_seconds()}
    if report["outbox_age_seconds"] > settings.LAG_WARN_SECONDS:
        logger.warning("outbox lag: the oldest unpublished message is %.0f s old (limit %s s)",
                       report["outbox_age_seconds"], settings.LAG_WARN_SECONDS)
    report["outbox_dead_lettered"] = OutboxMessage.objects.filter(dead_lettered_at__isnull=False).count()
    if report["outbox_dead_lettered"]:
        logger.warning("%s outbox message(s) dead-lettered: the relay cannot publish them (admin: outbox messages,"
                       " filter dead-lettered, action retry)", report["outbox_dead_lettered"])
    report["new_dead_letters"] = _new_dead_letters()
    for consumer, count in sorted(report["new_dead_letters"].items()):
        logger.warning("%s new dead letter(s) on %s", count, consumer)
    report["failed_sagas"] = SagaInstance.objects.filter(status=sagas.FAILED).count()
    if report["failed_sagas"]:
        logger.warning("%s saga(s) failed and need an operator (admin: retry current step)", report["failed_sagas"])
    report["jetstream_pending"] = jetstream_pending([d.name for d in messaging.durables()]) if jetstream else {}
    return report


def _outbox_age_seconds() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(extract(epoch from now() - min(sent_at)), 0)"
                       " FROM eventstore_outbox WHERE published_at IS NULL AND dead_lettered_at IS NULL")
        return float(cursor.fetchone()[0])


def _new_dead_letters() -> dict[str, int]:
    with transaction.atomic():
        checkpoint, _ = Checkpoint.objects.select_for_update().get_or_create(name=DEAD_LETTERS_SEEN)
        new = DeadLetter.objects.filter(pk__gt=checkpoint.position, replayed_at__isnull=True,
                                        discarded_at__isnull=True)
        counts: dict[str, int] = {}
        for consumer in new.values_list("consumer", flat=True):
            counts[consumer] = counts.get(consumer, 0) + 1
        top = DeadLetter.objects.aggregate(top=Max("pk"))["top"]
        if top and top > checkpoint.position:
            checkpoint.position = top
            checkpoint.save(update_fields=["position", "updated_at"])
    return counts


def jetstream_pending(durable_names: Iterable[str], *, timeout: float = 5.0) -> dict[str, int]:
    """Messages not yet delivered or not yet acknowledged, per existing durable; ``{}`` when NATS is unreachable."""
    names = list(durable_names)
    try:
        return asyncio.run(asyncio.wait_for(_pending(names), timeout))
    except Exception as exc:  # noqa: BLE001 - monitoring must not fail the job
        logger.warning("could not read JetStream pending counts: %s", exc or type(exc).__name__)
        return {}


async def _pending(names: list[str]) -> dict[str, int]:
    import nats
    from nats.js.errors import NotFoundError

    from eventstore.nats import servers

    nc = await nats.connect(servers=servers(), name="lag-check", connect_timeout=2, allow_reconnect=False,
                            max_reconnect_attempts=0)
    try:
        js = nc.jetstream()
        pending = {}
        for name in names:
            try:
                info = await js.consumer_info(settings.NATS_STREAM, name)
            except NotFoundError:
                continue
            pending[name] = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
        return pending
    finally:
        await nc.close()


def prune_outbox(now=None) -> int:
    """Delete outbox rows published more than ``OUTBOX_RETENTION_DAYS`` ago (unpublished rows are kept)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    rows = OutboxMessage.objects.filter(published_at__isnull=False, published_at__lt=cutoff)
    return _delete_in_batches(rows, "position")


def inbox_retention_days() -> int:
    """Days an inbox row is kept: ``INBOX_RETENTION_DAYS``, but never less than the stream keeps messages
    (``NATS_STREAM_MAX_AGE_DAYS``), so a durable that is recreated and replays the stream from its start
    still finds every message it handled before in the inbox."""
    return max(settings.INBOX_RETENTION_DAYS, settings.NATS_STREAM_MAX_AGE_DAYS)


def prune_inbox(now=None) -> int:
    """Delete inbox rows, and the version guards' rows (``eventstore.guards``), older than
    ``inbox_retention_days()``."""
    cutoff = (now or timezone.now()) - timedelta(days=inbox_retention_days())
    deleted = _delete_in_batches(InboxMessage.objects.filter(received_at__lt=cutoff), "pk")
    return deleted + _delete_in_batches(AppliedVersion.objects.filter(updated_at__lt=cutoff), "pk")


def _delete_in_batches(rows, key: str) -> int:
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(rows.order_by(key).values_list(key, flat=True)[:PRUNE_BATCH])
            if not batch:
                return deleted
            deleted += rows.model.objects.filter(**{f"{key}__in": batch}).delete()[0]


def check_saga_timeouts() -> int:
    """Re-send or give up on saga steps without a reply (``sagas.check_timeouts``); returns instances changed."""
    with context.use(context.new_context()):
        return sagas.check_timeouts()
