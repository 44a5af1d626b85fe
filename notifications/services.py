"""Notification use cases (product.md F11, architecture.md §12; the delivery guarantee is ADR 17).

- ``notify`` records the order's notification as ``pending`` in the order event's transaction and, once that
  commits, hands it to ``send_notification``.
- ``send_notification`` claims the row in its own committed transaction (one statement: ``pending`` →
  ``sending``, one more attempt, a fresh claim id; ``FOR UPDATE SKIP LOCKED`` so two senders never hold one
  row), sends, then records the outcome in another (one statement), matched by the claim id: ``sent``; ``pending`` again (or
  ``failed`` at ``SMS_MAX_ATTEMPTS``) when the gateway certainly did not take it; ``failed`` when the outcome is
  unknown. A row is only ever sent by the sender that claimed it, so a crash between the send and the
  outcome's commit leaves it ``sending``: it is never sent again by itself (at most once).
- ``retry_pending`` (schedule ``sms-retry``) turns ``sending`` rows whose claim is older than ``LEASE`` into
  ``failed`` (outcome unknown) and sends the ``pending`` ones.
- ``resend_notification`` (admin, depot roles) makes a ``sent`` or ``failed`` row ``pending`` again, to the
  customer's current number, and sends it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Iterator

from django.conf import settings
from django.db import connection, transaction

from eventstore import codec, store
from eventstore.errors import DomainError, NotFound
from eventstore.transactions import use_case
from notifications import caches, domain, sms
from notifications.models import Notification

logger = logging.getLogger("mallbots.notifications")

LEASE = dt.timedelta(minutes=2)
"""A claim older than this belongs to a sender that stopped (a send gives up after 10 s)."""
RETRY_BATCH = 100

_RECORD = (
    "INSERT INTO notifications_notification (order_id, kind, customer_id, sms_number, text, status, attempts,"
    " last_error, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, 0, %s, %s, %s)"
    " ON CONFLICT ON CONSTRAINT notifications_one_per_order_kind DO NOTHING"
)


def notify(*, order_id: str, kind: str, customer_id: str, total: Decimal = Decimal("0")) -> None:
    """Record the ``kind`` notification of the order with its F11 text and the customer's current number, and
    send it once the caller's transaction commits; nothing if the order already has one of this kind. A
    customer without a number gives a ``failed`` row (``the customer has no SMS number``).

    Runs in the caller's transaction (the order event's), else in its own; the insert is deferred to its commit
    (ADR 27) and the send waits for the commit.
    """
    with use_case():
        number = caches.current_number(customer_id)
        status, error = (domain.PENDING, "") if number else (domain.FAILED, domain.NO_NUMBER)
        now = codec.utcnow()
        store.write(_RECORD, [order_id, kind, customer_id, number, domain.text(kind, order_id=order_id, total=total),
                              status, error, now, now])
        if status == domain.PENDING:
            transaction.on_commit(partial(send_order_notification, order_id=order_id, kind=kind), robust=True)


@dataclass(frozen=True)
class Claimed:
    id: int
    claim: uuid.UUID
    sms_number: str
    text: str
    attempts: int


def send_notification(*, notification_id: int) -> str | None:
    """Claim, send and record one ``pending`` notification; returns the send's outcome (``sms.SENT`` …), or
    ``None`` if the row was not ``pending`` or another sender holds it.

    Precondition: outside any transaction (the claim must be committed before the SMS goes out).
    """
    return _send("id = %s", [notification_id])


def send_order_notification(*, order_id: str, kind: str) -> str | None:
    """``send_notification`` for the order's notification of ``kind``."""
    return _send("order_id = %s AND kind = %s", [order_id, kind])


def _send(where: str, key: list) -> str | None:
    with _outside_transactions():
        claimed = _claim(where, key)
        if claimed is None:
            return None
        outcome = sms.send(claimed.sms_number, claimed.text)
        _record_outcome(claimed, outcome)
    return outcome.result


@contextlib.contextmanager
def _outside_transactions() -> Iterator[None]:
    """Statements commit one by one (autocommit). Refused inside a transaction, since the claim must commit
    before the SMS goes out: there, a durable block raises (except in a test case's wrapping transaction)."""
    if connection.in_atomic_block:
        with transaction.atomic(durable=True):
            yield
    else:
        yield


_TABLE = Notification._meta.db_table
_CLAIM = (f"UPDATE {_TABLE} SET status = %s, attempts = attempts + 1, claim = %s, claimed_at = %s, updated_at = %s"
          f" WHERE id = (SELECT id FROM {_TABLE} WHERE {{where}} AND status = %s AND attempts < %s"
          " FOR UPDATE SKIP LOCKED) RETURNING id, attempts, sms_number, text")
_GIVE_UP = f"UPDATE {_TABLE} SET status = %s, updated_at = %s WHERE {{where}} AND status = %s AND attempts >= %s"


def _claim(where: str, key: list) -> Claimed | None:
    """The ``pending`` row claimed in one statement, its own transaction (autocommit): skipped if another sender
    holds it; one that has used up ``SMS_MAX_ATTEMPTS`` becomes ``failed`` instead (a second statement, only
    when nothing was claimed)."""
    now, claim = codec.utcnow(), uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM.format(where=where), [domain.SENDING, claim, now, now, *key, domain.PENDING,
                                                    settings.SMS_MAX_ATTEMPTS])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(_GIVE_UP.format(where=where), [domain.FAILED, now, *key, domain.PENDING,
                                                          settings.SMS_MAX_ATTEMPTS])
            return None
    notification_id, attempts, sms_number, text = row
    return Claimed(id=notification_id, claim=claim, sms_number=sms_number, text=text, attempts=attempts)


def _record_outcome(claimed: Claimed, outcome: sms.Outcome) -> None:
    """Write what became of the claimed send (one statement, autocommit), unless the row was resent since
    (another claim)."""
    now = codec.utcnow()
    if outcome.result == sms.SENT:
        fields = {"status": domain.SENT, "sent_at": now, "last_error": ""}
    elif outcome.result == sms.REFUSED:
        fields = {"status": domain.after_refusal(claimed.attempts, settings.SMS_MAX_ATTEMPTS),
                  "last_error": outcome.detail}
    else:
        fields = {"status": domain.FAILED, "last_error": domain.unknown_outcome(outcome.detail, claimed.attempts)}
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_TABLE} SET updated_at = %s, " + ", ".join(f"{name} = %s" for name in fields)
                       + " WHERE id = %s AND claim = %s", [now, *fields.values(), claimed.id, claimed.claim])
        updated = cursor.rowcount
    if not updated:
        logger.warning("notification %s was resent while attempt %s was out (%s); its outcome is not recorded",
                       claimed.id, claimed.attempts, outcome.result)
    elif outcome.result != sms.SENT:
        logger.warning("notification %s attempt %s: %s: %s", claimed.id, claimed.attempts, outcome.result,
                       outcome.detail)


def retry_pending(*, now: dt.datetime | None = None) -> dict[str, int]:
    """``sms-retry``: expired claims → ``failed`` (outcome unknown, not sent again); then send up to
    ``RETRY_BATCH`` ``pending`` notifications, oldest change first. Returns counts by outcome."""
    now = now or codec.utcnow()
    counts = {"expired": _expire_claims(now), sms.SENT: 0, sms.REFUSED: 0, sms.UNKNOWN: 0}
    waiting = list(Notification.objects.filter(status=domain.PENDING).order_by("updated_at", "id")
                   .values_list("pk", flat=True)[:RETRY_BATCH])
    for notification_id in waiting:
        result = send_notification(notification_id=notification_id)
        if result is not None:
            counts[result] += 1
    return counts


def _expire_claims(now: dt.datetime) -> int:
    expired = 0
    with transaction.atomic(durable=True):
        rows = (Notification.objects.select_for_update(skip_locked=True)
                .filter(status=domain.SENDING, claimed_at__lt=now - LEASE))
        for row in rows:
            detail = f"the sender stopped before recording it; claimed at {codec.format_timestamp(row.claimed_at)}"
            Notification.objects.filter(pk=row.pk).update(
                status=domain.FAILED, last_error=domain.unknown_outcome(detail, row.attempts), updated_at=now)
            logger.warning("notification %s: attempt %s never finished; failed, not sent again", row.pk, row.attempts)
            expired += 1
    return expired


def resend_notification(*, notification_id: int) -> None:
    """Staff: send a ``sent`` or ``failed`` notification again, to the customer's current number, with a new
    attempt count. Refused while it is ``pending`` or ``sending`` (``the notification is being sent``) and when
    the customer has no number. The send happens after commit."""
    with use_case():
        row = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if row is None:
            raise NotFound("notification")
        if row.status in (domain.PENDING, domain.SENDING):
            raise DomainError(domain.BEING_SENT)
        number = caches.current_number(row.customer_id)
        if not number:
            raise DomainError(domain.NO_NUMBER)
        Notification.objects.filter(pk=row.pk).update(status=domain.PENDING, attempts=0, last_error="", claim=None,
                                                      claimed_at=None, sms_number=number, updated_at=codec.utcnow())
        transaction.on_commit(partial(send_notification, notification_id=row.pk), robust=True)
