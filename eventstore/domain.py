"""Base classes for event-sourced aggregates and their domain events (pure Python, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from eventstore import schema


@dataclass(frozen=True)
class DomainEvent:
    """A fact recorded in one aggregate's stream. Subclasses are frozen dataclasses.

    ``name`` is the stored event name (e.g. ``stores.StoreCreated``); ``version`` the payload
    schema version, raised together with an upcaster when the payload changes shape.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1

    def to_payload(self) -> dict[str, Any]:
        return schema.to_dict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "DomainEvent":
        return schema.from_dict(cls, payload)


class Aggregate:
    """An event-sourced aggregate.

    Command methods validate, then call ``raise_event``; state changes only in
    ``apply_<EventClassName>`` methods, so replaying the stream rebuilds the same state.
    ``version`` is the committed version; ``pending`` holds events not yet saved.
    """

    stream_type: ClassVar[str]
    thing: ClassVar[str]
    snapshot_name: ClassVar[str | None] = None

    def __init__(self, id: str):
        self.id = id
        self.version = 0
        self.pending: list[DomainEvent] = []

    def raise_event(self, event: DomainEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    def apply(self, event: DomainEvent) -> None:
        getattr(self, f"apply_{type(event).__name__}")(event)

    def snapshot_state(self) -> dict[str, Any]:
        """JSON-ready state for a snapshot; override when the state holds nested objects."""
        return schema.to_dict({k: v for k, v in vars(self).items() if k not in ("id", "version", "pending")})

    def restore_state(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)
