"""Registries the apps fill in ``AppConfig.ready()``; the kernel knows no app.

- domain events by stored name, with upcasters per (name, from_version);
- in-transaction handlers per domain event class (projections, outbox translation);
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


def handlers_for(event: DomainEvent) -> list[Callable[..., None]]:
    return _handlers.get(type(event), [])


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
