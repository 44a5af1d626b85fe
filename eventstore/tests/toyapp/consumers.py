"""A toy consumer (durable ``toy-counters``) and a toy command handler for kernel tests."""

from dataclasses import dataclass

from eventstore import messaging
from eventstore.commands import command_handler
from eventstore.errors import DomainError
from eventstore.registry import message
from eventstore.tests.toyapp.contracts import COUNTER_SUBJECT
from eventstore.tests.toyapp.models import Fault, Tally

TOY_COMMANDS = "mallbots.toy.commands"


def _maybe_fail(received) -> None:
    fault = Fault.objects.filter(durable=received.durable).first()
    if fault and (fault.always_fail or received.delivery <= fault.fail_first_deliveries):
        raise RuntimeError(f"toy fault on delivery {received.delivery}")


def on_counter_incremented(received) -> None:
    _maybe_fail(received)
    tally, _ = Tally.objects.get_or_create(counter_id=received.message.id)
    tally.total += received.message.by
    tally.handled += 1
    tally.order = [*tally.order, received.message.by]
    tally.save()


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
