"""Invariants of the whole system, checked on a live database (``manage.py audit``).

Apps declare their checks in ``AppConfig.ready()`` (``audit.declare(name, function)``); the kernel declares
its own below. A check returns a ``Finding``: how many rows break the invariant (``count``) and a short
text; ``breach`` is ``count > 0`` unless the check says otherwise. Checks that look at work in flight
leave out what is younger than ``AUDIT_GRACE_SECONDS`` (a checkout whose order is still being created is
not a breach). Every check is one or a few indexed queries, a bounded pass over rows that are not final
yet, or a pass over the newest ``AUDIT_SCAN_ROWS`` rows of the event store or the outbox (primary-key
ranges), so the audit's cost does not grow with the database (docs/operations.md says how each scales).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from django.conf import settings
from django.db import connection
from django.utils import timezone


@dataclass(frozen=True)
class Finding:
    check: str
    count: int
    detail: str = ""
    breach: bool | None = None
    seconds: float = 0.0

    @property
    def breached(self) -> bool:
        return self.count > 0 if self.breach is None else self.breach


Check = Callable[[], Finding]
_checks: dict[str, Check] = {}
_thorough: set[str] = set()


def declare(name: str, check: Check, *, thorough: bool = False) -> None:
    """Register ``check`` under ``name`` (once; a second, different registration is an error). A
    ``thorough`` check costs as much as the data it covers; it runs only when asked for."""
    existing = _checks.get(name)
    if existing is not None and existing is not check:
        raise ValueError(f"audit check {name} declared twice")
    _checks[name] = check
    if thorough:
        _thorough.add(name)


def names() -> list[str]:
    return list(_checks)


def run(only: list[str] | None = None, *, thorough: bool = False) -> list[Finding]:
    """Run the declared checks (``only``: those names; thorough ones only with ``thorough`` or by name),
    each timed; a check that raises is a breach."""
    findings = []
    for name, check in _checks.items():
        if (only and name not in only) or (not only and name in _thorough and not thorough):
            continue
        started = time.perf_counter()
        try:
            finding = check()
            finding = Finding(name, finding.count, finding.detail, finding.breach)
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is reported, never hidden
            finding = Finding(name, 1, f"check failed: {type(exc).__name__}: {exc}", breach=True)
        findings.append(Finding(finding.check, finding.count, finding.detail, finding.breach,
                                time.perf_counter() - started))
    return findings


def grace_cutoff():
    """Work started before this moment should have settled (``AUDIT_GRACE_SECONDS`` ago)."""
    return timezone.now() - timedelta(seconds=settings.AUDIT_GRACE_SECONDS)


def scalar(sql: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def rows(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def recent_floor(table: str, key: str) -> int:
    """The key above which the newest ``AUDIT_SCAN_ROWS`` rows of ``table`` lie (a primary-key range)."""
    return scalar(f"SELECT coalesce(max({key}), 0) - %s FROM {table}", [settings.AUDIT_SCAN_ROWS])


def sample(ids: list, limit: int = 3) -> str:
    return ", ".join(str(i) for i in ids[:limit]) + (" …" if len(ids) > limit else "")


# ---------------------------------------------------------------- the kernel's own invariants


def outbox_published() -> Finding:
    """Every outbox row older than the grace period is published (the relay keeps up and nothing blocks it)."""
    stuck = rows("SELECT position FROM eventstore_outbox WHERE published_at IS NULL AND sent_at < %s"
                 " ORDER BY position LIMIT 100", [grace_cutoff()])
    count = scalar("SELECT count(*) FROM eventstore_outbox WHERE published_at IS NULL AND sent_at < %s",
                   [grace_cutoff()]) if stuck else 0
    return Finding("outbox-published", count, f"positions {sample([r[0] for r in stuck])}" if stuck else
                   "every row older than the grace period is published")


def sagas_settled() -> Finding:
    """No saga is ``failed`` or waiting longer than its timeouts and re-sends allow."""
    limit = timedelta(seconds=settings.SAGA_STEP_TIMEOUT_SECONDS * (settings.SAGA_MAX_RESENDS + 1)
                      + settings.AUDIT_GRACE_SECONDS)
    late = rows("SELECT saga_name, saga_id, status FROM eventstore_sagainstance"
                " WHERE status = 'failed' OR (status IN ('running', 'compensating') AND step_sent_at < %s)"
                " LIMIT 100", [timezone.now() - limit])
    waiting = scalar("SELECT count(*) FROM eventstore_sagainstance WHERE status IN ('running', 'compensating')")
    detail = (f"failed or past every timeout: {sample([f'{n} {i} ({s})' for n, i, s in late])}" if late else
              f"none failed or past its timeouts; {waiting} legitimately waiting")
    return Finding("sagas-settled", len(late), detail)


def dead_letters_handled() -> Finding:
    """Every dead letter was replayed or discarded by an operator."""
    open_letters = rows("SELECT consumer, count(*) FROM eventstore_deadletter WHERE replayed_at IS NULL"
                        " AND discarded_at IS NULL GROUP BY consumer ORDER BY consumer")
    count = sum(n for _, n in open_letters)
    return Finding("dead-letters", count, ", ".join(f"{c}: {n}" for c, n in open_letters) or "none open")


def commands_answered() -> Finding:
    """Every command a handler took (its inbox row) that asked for a reply has its reply in the outbox.

    Over the newest ``AUDIT_SCAN_ROWS`` outbox rows: commands received since the oldest of them.
    """
    floor = recent_floor("eventstore_outbox", "position")
    missing = rows(
        "WITH replies AS (SELECT metadata->>'causation_id' AS command_id FROM eventstore_outbox"
        "                 WHERE position > %s AND metadata ? 'REPLY_OUTCOME'),"
        " since AS (SELECT min(sent_at) AS at FROM eventstore_outbox WHERE position > %s)"
        " SELECT i.consumer, i.message_id FROM eventstore_inbox i, since"
        " WHERE i.consumer LIKE '%%-commands' AND i.metadata ? 'COMMAND_REPLY_CHANNEL'"
        " AND i.received_at >= since.at AND i.received_at < %s"
        " AND i.message_id::text NOT IN (SELECT command_id FROM replies WHERE command_id IS NOT NULL) LIMIT 100",
        [floor, floor, grace_cutoff()])
    return Finding("commands-answered", len(missing),
                   f"no reply: {sample([f'{c} {m}' for c, m in missing])}" if missing else
                   "every command taken has its reply")


def projections_match_a_rebuild() -> Finding:
    """Every read model equals a rebuild from the event store (no projection drift): per app, the rows'
    checksum before and after ``projections.rebuild`` inside a transaction that is then rolled back.

    Thorough: it replays every event of the apps' streams and holds their read-model tables' lock meanwhile.
    """
    from django.db import transaction

    from eventstore import projections

    drifted = []
    for app in projections.apps_with_read_models():
        tables = [model for group in projections.groups_of(app) for model in group.tables]
        with transaction.atomic():
            before = [_checksum(model) for model in tables]
            projections.rebuild(app)
            after = [_checksum(model) for model in tables]
            transaction.set_rollback(True)
        drifted += [model._meta.label for model, old, new in zip(tables, before, after) if old != new]
    return Finding("projection-drift", len(drifted), f"differs from a rebuild: {sample(drifted, 10)}" if drifted
                   else f"every read model of {len(projections.apps_with_read_models())} apps equals a rebuild")


def _checksum(model) -> str:
    """md5 of the table's rows (surrogate keys left out) in a stable order."""
    from django.db.models import AutoField, BigAutoField

    columns = [field.column for field in model._meta.concrete_fields if not isinstance(field, (AutoField, BigAutoField))]
    row = "ROW(" + ", ".join(connection.ops.quote_name(c) for c in columns) + ")::text"
    table = connection.ops.quote_name(model._meta.db_table)
    return scalar(f"SELECT md5(coalesce(string_agg(r, ',' ORDER BY r), '')) FROM (SELECT {row} AS r FROM {table}) t")


for _name, _check in (("outbox-published", outbox_published), ("sagas-settled", sagas_settled),
                      ("dead-letters", dead_letters_handled), ("commands-answered", commands_answered)):
    declare(_name, _check)
declare("projection-drift", projections_match_a_rebuild, thorough=True)
