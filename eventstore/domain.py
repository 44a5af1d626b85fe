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

    ``payload_keys`` maps an attribute to a different stored key; it exists because ``name`` is taken by
    the event's stored name, so a payload field ``name`` lives in e.g. ``store_name`` (ADR 8).
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    payload_keys: ClassVar[dict[str, str]] = {}

    def to_payload(self) -> dict[str, Any]:
        payload = schema.to_dict(self)
        if not self.payload_keys:
            return payload
        return {self.payload_keys.get(key, key): value for key, value in payload.items()}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "DomainEvent":
        attributes = {stored: attribute for attribute, stored in cls.payload_keys.items()}
        return schema.from_dict(cls, {attributes.get(key, key): value for key, value in payload.items()})


class Aggregate:
    """An event-sourced aggregate.

    Command methods validate, then call ``raise_event``; state changes only in
    ``apply_<EventClassName>`` methods, so replaying the stream rebuilds the same state.
    ``version`` is the committed version; ``pending`` holds events not yet saved.
    """

    stream_type: ClassVar[str]
    thing: ClassVar[str]
    snapshot_name: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "stream_type" in cls.__dict__:
            from eventstore import registry

            registry.register_aggregate(cls)

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
