"""A toy consumer (durable ``toy-counters``) and a toy command handler for kernel tests."""

import json
from dataclasses import dataclass

from django.db import connection

from eventstore import messaging
from eventstore.commands import command_handler
from eventstore.errors import DomainError
from eventstore.registry import message
from toyapp.contracts import COUNTER_SUBJECT
from toyapp.models import Tally

TOY_COMMANDS = "mallbots.toy.commands"


_FAULT = "SELECT fail_first_deliveries, always_fail, only_counter FROM toyapp_fault WHERE durable = %s"
_INCREMENT = ('UPDATE toyapp_tally SET total = total + %s, handled = handled + 1, "order" = "order" || %s::jsonb'
              " WHERE counter_id = %s")


def _maybe_fail(received) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_FAULT, [received.durable])
        fault = cursor.fetchone()
    if fault and fault[2] and fault[2] != received.message.id:
        return
    if fault and (fault[1] or received.delivery <= fault[0]):
        raise RuntimeError(f"toy fault on delivery {received.delivery}")


def on_counter_incremented(received) -> None:
    """A lean read-model update (one statement once the row exists), after the fault switch."""
    _maybe_fail(received)
    by = received.message.by
    with connection.cursor() as cursor:
        cursor.execute(_INCREMENT, [by, json.dumps([by]), received.message.id])
        if cursor.rowcount:
            return
    Tally.objects.create(counter_id=received.message.id, total=by, handled=1, order=[by])


def on_counter_opened(received) -> None:
    Tally.objects.get_or_create(counter_id=received.message.id)


@message("toyapi.CheckTitle", TOY_COMMANDS)
@dataclass(frozen=True)
class CheckTitle:
    title: str


@message("toyapi.TitleChecked", "mallbots.replies")
@dataclass(frozen=True)
class TitleChecked:
    length: int


@command_handler
def check_title(received):
    if not received.message.title.strip():
        raise DomainError("the title cannot be blank")
    Tally.objects.get_or_create(counter_id=f"title-{received.message.title}")
    return TitleChecked(length=len(received.message.title))


messaging.declare(name="toy-counters", module="toy", subject=COUNTER_SUBJECT, handlers={
    "toyapi.CounterIncremented": on_counter_incremented,
    "toyapi.CounterOpened": on_counter_opened,
})
messaging.declare(name="toy-commands", module="toy", subject=TOY_COMMANDS, handlers={
    "toyapi.CheckTitle": check_title,
})
