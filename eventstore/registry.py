"""Registries the apps fill in ``AppConfig.ready()``; the kernel knows no app.

- domain events by stored name, with upcasters per (name, from_version);
- aggregate classes by stream type (``Aggregate`` subclasses register themselves);
- in-transaction handlers per domain event class: read-model projections (``projection``, which
  ``rebuild_projections`` replays) and others such as the outbox translation (``handles``);
- integration messages (events, commands, replies) by message name, with their subject.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable

from eventstore.domain import DomainEvent

_events: dict[str, type[DomainEvent]] = {}
_upcasters: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}
_handlers: dict[type[DomainEvent], list[Callable[..., None]]] = defaultdict(list)
_messages: dict[str, "MessageType"] = {}
_projections: set[Callable[..., None]] = set()
_aggregates: dict[str, type] = {}


def domain_event(cls: type[DomainEvent]) -> type[DomainEvent]:
    """Class decorator: register a domain event under its ``name``."""
    existing = _events.get(cls.name)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise ValueError(f"domain event {cls.name} registered twice")
    _events[cls.name] = cls
    return cls


def event_class(name: str) -> type[DomainEvent]:
    return _events[name]


def upcaster(name: str, from_version: int):
    """Decorator: turn a stored payload of ``name`` at ``from_version`` into ``from_version + 1``."""

    def register(fn: Callable[[dict[str, Any]], dict[str, Any]]):
        _upcasters[(name, from_version)] = fn
        return fn

    return register


def upcast(name: str, stored_version: int, payload: dict[str, Any]) -> dict[str, Any]:
    target = _events[name].version
    version = stored_version
    while version < target:
        payload = _upcasters[(name, version)](payload)
        version += 1
    return payload


def handles(*event_classes: type[DomainEvent]):
    """Decorator: run ``fn(recorded)`` inside the saving transaction for each of these events."""

    def register(fn: Callable[..., None]):
        for cls in event_classes:
            if fn not in _handlers[cls]:
                _handlers[cls].append(fn)
        return fn

    return register


def projection(*event_classes: type[DomainEvent]):
    """Decorator: like ``handles``, for a read-model projection (a writer of its app's read models and
    nothing else). ``rebuild_projections`` replays the stored events through these handlers only."""

    def register(fn: Callable[..., None]):
        handles(*event_classes)(fn)
        _projections.add(fn)
        return fn

    return register


def handlers_for(event: DomainEvent) -> list[Callable[..., None]]:
    return _handlers.get(type(event), [])


def is_projection(handler: Callable[..., None]) -> bool:
    return handler in _projections


def register_aggregate(cls: type) -> None:
    """Called by ``Aggregate.__init_subclass__`` for each class that sets ``stream_type``."""
    existing = _aggregates.get(cls.stream_type)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise ValueError(f"stream type {cls.stream_type} used by {existing.__qualname__} and {cls.__qualname__}")
    _aggregates[cls.stream_type] = cls


def aggregate_class(stream_type: str) -> type | None:
    return _aggregates.get(stream_type)


def all_aggregates() -> list[type]:
    return sorted(_aggregates.values(), key=lambda c: c.stream_type)


@dataclass(frozen=True)
class MessageType:
    name: str
    cls: type
    subject: str


def message(name: str, subject: str):
    """Class decorator for a contract dataclass: register it as message ``name`` on ``subject``."""

    def register(cls: type) -> type:
        cls.message_name = name
        cls.subject = subject
        _messages[name] = MessageType(name=name, cls=cls, subject=subject)
        return cls

    return register


def message_type(name: str) -> MessageType | None:
    return _messages.get(name)


def all_messages() -> list[MessageType]:
    return sorted(_messages.values(), key=lambda m: (m.subject, m.name))


def all_events() -> list[type[DomainEvent]]:
    return sorted(_events.values(), key=lambda c: c.name)
