from dataclasses import dataclass
from decimal import Decimal

from eventstore.registry import message

COUNTER_SUBJECT = "mallbots.toy.events.Counter"


@message("toyapi.CounterOpened", COUNTER_SUBJECT)
@dataclass(frozen=True)
class CounterOpened:
    id: str
    title: str
    limit: Decimal


@message("toyapi.CounterIncremented", COUNTER_SUBJECT)
@dataclass(frozen=True)
class CounterIncremented:
    id: str
    by: int
