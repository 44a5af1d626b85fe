"""Saga orchestration (architecture.md §5.5; rules of events.md §6.2), generic over saga definitions.

An app defines a ``Saga`` (name, reply channel, numbered ``Step``s), registers it, starts instances inside
its own transactions with ``start`` and declares a durable on the reply channel whose handlers are
``handle_reply`` (``declare_replies`` does both the names and the declaration). Instances live in
``eventstore_sagainstance``; every update checks and bumps the row version, so a reply that lost a race
rolls back with ``ConcurrencyError`` (``VersionConflict``, at its commit: the checked update is deferred) and
is redelivered. ``check_timeouts`` re-sends or gives up on
commands that got no reply; ``retry_current_step`` is the operator's way out of ``failed``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Sequence

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from eventstore import codec, context, messaging, rows, store
from eventstore.commands import SagaHeaders, send_command
from eventstore.contracts import Failure
from eventstore.errors import DomainError, VersionConflict
from eventstore.models import SagaInstance

logger = logging.getLogger("mallbots.sagas")

RUNNING, COMPENSATING, COMPLETED, COMPENSATED, FAILED = "running", "compensating", "completed", "compensated", "failed"
ACTIVE = (RUNNING, COMPENSATING)
FINISHED = (COMPLETED, COMPENSATED)
TIMED_OUT = "the saga step timed out"


class SagaData(dict):
    """The instance's JSON data as step functions see it; also tells ``saga_id`` and the ``last_error`` text.

    Reply handlers change it in place; the orchestrator stores it with the instance.
    """

    def __init__(self, values: Mapping[str, Any], *, saga_id: str = "", last_error: str = ""):
        super().__init__(values)
        self.saga_id = saga_id
        self.last_error = last_error


StepFn = Callable[[SagaData], Any]
ReplyFn = Callable[[SagaData, Any], None]


def _never(data: SagaData) -> bool:
    return False


@dataclass(frozen=True)
class Step:
    """One numbered step (its index in ``Saga.steps``).

    ``action(data)`` returns the command to send going forward; ``compensation(data)`` the command that undoes
    it (``None`` from either, or no function, skips the step in that direction). ``reply_handlers`` (forward)
    and ``compensation_reply_handlers`` map a reply name to ``fn(data, reply_message)``, run before the outcome
    is evaluated.
    """

    action: StepFn | None = None
    compensation: StepFn | None = None
    reply_handlers: Mapping[str, ReplyFn] = field(default_factory=dict)
    compensation_reply_handlers: Mapping[str, ReplyFn] = field(default_factory=dict)


@dataclass(frozen=True)
class Saga:
    """A saga definition. ``on_forward_success(data) -> bool``: True means "compensate instead of advancing"
    (e.g. the order was cancelled meanwhile); compensation then starts at the current step, inclusive."""

    name: str
    reply_channel: str
    steps: Sequence[Step]
    on_forward_success: Callable[[SagaData], bool] = _never

    def reply_names(self) -> list[str]:
        names = {"am.Success", "am.Failure"}
        for step in self.steps:
            names.update(step.reply_handlers)
            names.update(step.compensation_reply_handlers)
        return sorted(names)


_sagas: dict[str, Saga] = {}


def register(saga: Saga) -> Saga:
    """Make ``saga`` known to ``handle_reply``/``check_timeouts`` by name (call at import, in ``ready()``)."""
    existing = _sagas.get(saga.name)
    if existing is not None and existing.reply_channel != saga.reply_channel:
        raise ValueError(f"saga {saga.name} registered twice with different reply channels")
    _sagas[saga.name] = saga
    return saga


def registered(name: str) -> Saga | None:
    return _sagas.get(name)


def reply_handlers_for(saga: Saga, names: Iterable[str] = ()) -> dict[str, messaging.Handler]:
    """Durable handlers for the saga's replies: ``am.Success``, ``am.Failure``, every name a step handles, ``names``."""
    return {name: handle_reply for name in sorted({*saga.reply_names(), *names})}


def declare_replies(saga: Saga, *, durable: str, module: str, names: Iterable[str] = ()) -> messaging.Durable:
    """Register ``saga`` and declare its reply durable on ``saga.reply_channel``."""
    register(saga)
    return messaging.declare(name=durable, module=module, subject=saga.reply_channel,
                             handlers=reply_handlers_for(saga, names))


def instance(saga: Saga | str, saga_id: str) -> SagaInstance | None:
    name = saga if isinstance(saga, str) else saga.name
    return rows.first(SagaInstance, "saga_name = %s AND saga_id = %s", [name, saga_id])


@dataclass(frozen=True)
class _Move:
    """Where an instance goes next and the command to send there (``None``: nothing to send)."""

    step: int
    compensating: bool
    status: str
    command: Any = None
    last_error: str | None = None


def _forward_from(saga: Saga, data: SagaData, start: int) -> _Move:
    for number in range(max(start, 0), len(saga.steps)):
        action = saga.steps[number].action
        command = action(data) if action else None
        if command is not None:
            return _Move(number, False, RUNNING, command)
    return _Move(len(saga.steps) - 1, False, COMPLETED)


def _compensate_from(saga: Saga, data: SagaData, start: int) -> _Move:
    for number in range(min(start, len(saga.steps) - 1), -1, -1):
        compensation = saga.steps[number].compensation
        command = compensation(data) if compensation else None
        if command is not None:
            return _Move(number, True, COMPENSATING, command)
    return _Move(0, True, COMPENSATED)


def _current_command(saga: Saga, row: SagaInstance, data: SagaData) -> Any:
    if not 0 <= row.step < len(saga.steps):
        return None
    step = saga.steps[row.step]
    fn = step.compensation if row.compensating else step.action
    return fn(data) if fn else None


def _data(row: SagaInstance) -> SagaData:
    return SagaData(row.data or {}, saga_id=row.saga_id, last_error=row.last_error)


def _send(saga: Saga, saga_id: str, move: _Move) -> None:
    send_command(move.command, reply_channel=saga.reply_channel,
                 saga=SagaHeaders(saga_id=saga_id, saga_name=saga.name, step=move.step, compensating=move.compensating))


def _apply(saga: Saga, row: SagaInstance, data: SagaData, move: _Move, *, now: datetime,
           resends: int = 0) -> None:
    """Store ``move`` if the row still has the version it was read with, then send.

    The update is deferred with its version check (``_update_if_version``): when another transaction changed
    the row meanwhile, the transaction fails with ``VersionConflict`` (a ``ConcurrencyError``) at its next
    statement or its commit, and rolls back.
    """
    changes = {
        "data": dict(data), "step": move.step, "compensating": move.compensating, "status": move.status,
        "resends": resends, "step_sent_at": now if move.command is not None else row.step_sent_at,
        "version": row.version + 1, "updated_at": now,
    }
    if move.last_error is not None:
        changes["last_error"] = move.last_error
    _update_if_version(row, changes)
    for name, value in changes.items():
        setattr(row, name, value)
    if move.command is not None:
        _send(saga, row.saga_id, move)
    logger.log(logging.DEBUG if move.status == RUNNING and not resends else logging.INFO,
               "saga %s %s: step %s%s, %s", saga.name, row.saga_id, move.step,
               " (compensating)" if move.compensating else "", move.status)


_TABLE = SagaInstance._meta.db_table


def _update_if_version(row: SagaInstance, changes: dict[str, Any]) -> None:
    """``UPDATE`` the instance with ``changes`` where it still has ``row.version``, deferred (``store.write``);
    the server checks that it changed one row (``eventstore_expect_rows``, migration 0005) and fails the
    transaction otherwise, which surfaces as ``VersionConflict("saga")``."""
    params = [codec.dumps(value) if name == "data" else value for name, value in changes.items()]
    update = (f"UPDATE {_TABLE} SET " + ", ".join(f"{name} = %s::jsonb" if name == "data" else f"{name} = %s"
                                                  for name in changes)
              + " WHERE id = %s AND version = %s RETURNING 1")
    store.write(f"WITH changed AS ({update}) SELECT eventstore_expect_rows((SELECT count(*) FROM changed), 1, 'saga')",
                [*params, row.pk, row.version], _SAGA_CONFLICT)


_SAGA_CONFLICT = store.raising("eventstore_version_conflict", lambda: VersionConflict("saga"))


_INSERT = (f"INSERT INTO {_TABLE} (saga_name, saga_id, data, step, compensating, status, last_error, resends,"
           " step_sent_at, version, created_at, updated_at) VALUES (%s, %s, %s::jsonb, %s, false, %s, '', 0, %s, 1, %s, %s)")


def start(saga: Saga, saga_id: str, data: Mapping[str, Any]) -> None:
    """Create the instance and send the first step's command (rule 1).

    Precondition: inside the caller's ``transaction.atomic()`` (the instance and the command commit with the
    caller's own writes). An instance with the same name and id must not exist: the insert is deferred
    (``store.write``, like the command's outbox row), so a duplicate fails at the transaction's next
    statement or its commit, and the transaction rolls back.
    """
    store.require_transaction()
    register(saga)
    saga_data = SagaData(data, saga_id=saga_id)
    move = _forward_from(saga, saga_data, 0)
    now = timezone.now()
    store.write(_INSERT, [saga.name, saga_id, codec.dumps(dict(saga_data)), move.step, move.status,
                          now if move.command is not None else None, now, now])
    if move.command is not None:
        _send(saga, saga_id, move)


_AMEND = (f"UPDATE {_TABLE} SET data = data || %s::jsonb, version = version + 1, updated_at = %s"
          f" WHERE saga_name = %s AND saga_id = %s AND status IN ('{RUNNING}', '{COMPENSATING}')")


def amend(saga: Saga, saga_id: str, changes: Mapping[str, Any]) -> None:
    """Merge ``changes`` into the data of the instance if it is running or compensating; otherwise nothing.

    Precondition: inside the caller's ``transaction.atomic()``. The update is deferred (``store.write``) and
    raises the instance's version: a reply that read the instance before and commits after fails its version
    check (``VersionConflict``) and is redelivered, and then reads the amended data. For what the saga's own
    hooks must know from another aggregate without reading it on every reply (rule 5's cancellation).
    """
    store.require_transaction()
    store.write(_AMEND, [codec.dumps(dict(changes)), timezone.now(), saga.name, saga_id])


def _after_success(saga: Saga, row: SagaInstance, data: SagaData) -> _Move:
    if row.compensating:
        return _compensate_from(saga, data, row.step - 1)
    if saga.on_forward_success(data):
        return _compensate_from(saga, data, row.step)
    return _forward_from(saga, data, row.step + 1)


def _after_failure(saga: Saga, row: SagaInstance, data: SagaData, error: str) -> _Move:
    data.last_error = error
    if row.compensating:
        return _Move(row.step, True, FAILED, last_error=error)
    move = _compensate_from(saga, data, row.step - 1)
    return _Move(move.step, move.compensating, move.status, move.command, last_error=error)


def _matches(row: SagaInstance | None, metadata: Mapping[str, Any]) -> bool:
    if row is None or row.status in FINISHED:
        return False
    return (str(metadata.get("REPLY_SAGA_STEP", "")) == str(row.step)
            and str(metadata.get("REPLY_SAGA_COMPENSATING", "")) == ("true" if row.compensating else "false"))


def handle_reply(received: messaging.Received) -> None:
    """Durable handler for a saga reply (rules 3–8, 10, 11); runs in the reply's transaction.

    Ignores replies for unknown sagas or instances, finished instances and late replies (step or direction
    differ). Runs the step's reply handler for the reply's name, then moves on by the outcome. Raises
    ``ConcurrencyError`` when the instance changed since it was read (at the commit at the latest; the reply is
    redelivered).
    """
    metadata = received.metadata
    saga = _sagas.get(str(metadata.get("REPLY_SAGA_NAME", "")))
    row = instance(saga, str(metadata.get("REPLY_SAGA_ID", ""))) if saga else None
    if saga is None or not _matches(row, metadata):
        logger.info("saga reply %s (%s) ignored: %s step %s compensating %s", received.name, received.id,
                    metadata.get("REPLY_SAGA_NAME"), metadata.get("REPLY_SAGA_STEP"),
                    metadata.get("REPLY_SAGA_COMPENSATING"))
        return
    data = _data(row)
    step = saga.steps[row.step] if 0 <= row.step < len(saga.steps) else Step()
    handlers = step.compensation_reply_handlers if row.compensating else step.reply_handlers
    if received.name in handlers:
        handlers[received.name](data, received.message)
    outcome = metadata.get("REPLY_OUTCOME")
    failed = outcome == "FAILURE" or (outcome is None and isinstance(received.message, Failure))
    if failed:
        error = getattr(received.message, "message", "") or "the saga step failed"
        move = _after_failure(saga, row, data, error)
    else:
        move = _after_success(saga, row, data)
    _apply(saga, row, data, move, now=timezone.now())


def check_timeouts(now: datetime | None = None, *, limit: int = 500) -> int:
    """Re-send or give up on commands without a reply for ``SAGA_STEP_TIMEOUT_SECONDS`` (rule 9).

    Each instance is handled in its own transaction under ``SELECT … FOR UPDATE SKIP LOCKED`` (rows a reply
    is updating are left for the next run). Below ``SAGA_MAX_RESENDS`` the same command goes out again with a
    new message id; after that a forward step fails with ``the saga step timed out`` and a compensation makes
    the instance ``failed``. An instance the sweep cannot handle (a bug, data that no longer fits its saga)
    is made ``failed`` with the error as ``last_error`` and the sweep goes on; only a database that stops
    answering ends it. Instances of sagas this process does not know are left alone and do not count
    towards ``limit`` (logged). Returns the number of instances changed.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SAGA_STEP_TIMEOUT_SECONDS)
    due = SagaInstance.objects.filter(status__in=ACTIVE, step_sent_at__lt=cutoff)
    unknown = due.exclude(saga_name__in=list(_sagas)).values_list("saga_name", flat=True).distinct()
    for name in unknown:
        logger.warning("saga timeouts: instances of the unknown saga %s are due and left alone", name)
    changed = 0
    for pk in list(due.filter(saga_name__in=list(_sagas)).order_by("step_sent_at").values_list("pk", flat=True)[:limit]):
        try:
            with context.use(context.new_context()), transaction.atomic():
                row = due.select_for_update(skip_locked=True).filter(pk=pk).first()
                if row is None:
                    continue
                _time_out(_sagas[row.saga_name], row, now)
                changed += 1
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:  # noqa: BLE001 - one instance never stops the sweep for the others
            logger.exception("saga timeouts: instance %s cannot be handled; marking it failed", pk)
            _give_up(pk, f"timeout sweep: {type(exc).__name__}: {exc}")
            changed += 1
    return changed


def _give_up(pk: int, error: str) -> None:
    """Mark one instance ``failed`` with ``error`` (its own transaction; the operator retries it in the admin)."""
    with transaction.atomic():
        SagaInstance.objects.filter(pk=pk, status__in=ACTIVE).update(
            status=FAILED, last_error=error[:2000], version=F("version") + 1, updated_at=timezone.now())


def _time_out(saga: Saga, row: SagaInstance, now: datetime) -> None:
    data = _data(row)
    if row.resends < settings.SAGA_MAX_RESENDS:
        command = _current_command(saga, row, data)
        move = _Move(row.step, row.compensating, row.status, command)
        logger.warning("saga %s %s: step %s got no reply, re-sending (%s)", saga.name, row.saga_id, row.step,
                       row.resends + 1)
        _apply(saga, row, data, move, now=now, resends=row.resends + 1)
        return
    logger.warning("saga %s %s: step %s timed out", saga.name, row.saga_id, row.step)
    _apply(saga, row, data, _after_failure(saga, row, data, TIMED_OUT), now=now)


def retry_current_step(row: SagaInstance) -> SagaInstance:
    """Operator action: send the current step's command again (locks the instance row).

    ``failed`` → its current compensation goes out again and the instance is ``compensating`` with
    ``resends`` reset; ``running``/``compensating`` → the current command is re-sent. Finished instances
    raise ``DomainError``. Returns the updated instance.
    """
    with transaction.atomic():
        row = SagaInstance.objects.select_for_update().get(pk=row.pk)
        saga = _sagas.get(row.saga_name)
        if saga is None:
            raise DomainError(f"the saga {row.saga_name} is not known")
        if row.status in FINISHED:
            raise DomainError("the saga is not in progress")
        data = _data(row)
        command = _current_command(saga, row, data)
        if command is None:
            move = (_compensate_from(saga, data, row.step - 1) if row.compensating
                    else _forward_from(saga, data, row.step + 1))
        else:
            status = COMPENSATING if row.status == FAILED else row.status
            move = _Move(row.step, row.compensating, status, command)
        resends = 0 if row.status == FAILED else row.resends
        _apply(saga, row, data, move, now=timezone.now(), resends=resends)
        return row
