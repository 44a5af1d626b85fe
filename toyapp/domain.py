"""A toy aggregate for kernel tests: a named counter."""

from dataclasses import dataclass
from decimal import Decimal

from eventstore.schema import money
from eventstore.domain import Aggregate, DomainEvent
from eventstore.errors import DomainError
from eventstore.registry import domain_event, upcaster


@domain_event
@dataclass(frozen=True)
class CounterOpened(DomainEvent):
    name = "toy.CounterOpened"
    title: str
    limit: Decimal = Decimal("0.00")


@domain_event
@dataclass(frozen=True)
class CounterIncremented(DomainEvent):
    name = "toy.CounterIncremented"
    by: int


@domain_event
@dataclass(frozen=True)
class CounterRetitled(DomainEvent):
    """v1 {"label"} → v2 {"label", "source"} → v3 {"title", "source"}."""

    name = "toy.CounterRetitled"
    version = 3
    title: str
    source: str


@upcaster("toy.CounterRetitled", 1)
def _retitled_v1_to_v2(payload):
    return {**payload, "source": "legacy"}


@upcaster("toy.CounterRetitled", 2)
def _retitled_v2_to_v3(payload):
    payload = dict(payload)
    payload["title"] = payload.pop("label")
    return payload


class Counter(Aggregate):
    stream_type = "toy.Counter"
    thing = "counter"
    snapshot_name = "toy.CounterV1"

    @classmethod
    def open(cls, id: str, title: str, limit: Decimal = Decimal("0.00")) -> "Counter":
        if not title.strip():
            raise DomainError("the counter title cannot be blank")
        counter = cls(id)
        counter.raise_event(CounterOpened(title=title.strip(), limit=money(limit)))
        return counter

    def increment(self, by: int = 1) -> None:
        self.raise_event(CounterIncremented(by=by))

    def apply_CounterOpened(self, event: CounterOpened) -> None:
        self.title = event.title
        self.limit = event.limit
        self.total = 0
        self.history: list[int] = []

    def apply_CounterIncremented(self, event: CounterIncremented) -> None:
        self.total += event.by
        self.history = [*self.history, event.by]

    def apply_CounterRetitled(self, event: CounterRetitled) -> None:
        self.title = event.title
        self.source = event.source
