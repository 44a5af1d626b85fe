"""An AsyncAPI 3.0 document generated from the registries (docs/asyncapi.yaml, served at ``/api/asyncapi/``).

- channels: every subject a registered message is published on or a durable consumes, with the messages
  seen there (registered on that subject, or handled there by a durable: the kernel's ``am.Success`` and
  ``am.Failure`` appear only on the saga reply channels they are sent to);
- messages: the envelope of events.md §2 whose ``payload`` is the contract dataclass as JSON Schema (money
  is a number with at most two decimals), headers ``Nats-Msg-Id``, ``Content-Type`` and ``traceparent``;
- operations: ``send`` by the module that owns an event's contract; commands are sent by the sagas (the
  modules declaring a saga's reply durable) to the module owning the command's contract, which answers on
  the reply channel named in the command's metadata; ``receive`` once per declared durable, with the
  names it handles (``x-durable``, ``x-module``).

Apps whose config says ``in_event_catalog = False`` (the kernel's example app) and test modules are left
out, as in the event catalog.
"""

from __future__ import annotations

import dataclasses
import typing
from decimal import Decimal

import yaml

from eventstore import catalog, messaging, registry

VERSION = "1.0.0"


def _schema(hint) -> dict:
    origin = typing.get_origin(hint)
    if origin in (tuple, list):
        (item, *_rest) = typing.get_args(hint) or (typing.Any,)
        return {"type": "array", "items": _schema(item)}
    if origin is typing.Union:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _schema(options[0]) if len(options) == 1 else {}
    if dataclasses.is_dataclass(hint):
        return _object(hint)
    if hint is Decimal:
        return {"type": "number", "multipleOf": 0.01, "description": "money: parse as a decimal"}
    return {str: {"type": "string"}, int: {"type": "integer"}, bool: {"type": "boolean"},
            float: {"type": "number"}}.get(hint, {})


def _object(cls) -> dict:
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    schema: dict = {"type": "object", "properties": {f.name: _schema(hints[f.name]) for f in fields}}
    if fields:
        schema["required"] = [f.name for f in fields]
    return schema


def _documented_durable(durable: messaging.Durable) -> bool:
    """Declared by a documented app (its ``module`` is the app's label) with handlers outside test modules."""
    from django.apps import apps

    try:
        config = apps.get_app_config(durable.module)
    except LookupError:
        return False
    return getattr(config, "in_event_catalog", True) and all(
        catalog._documented(handler.__module__) for handler in durable.handlers.values())


def _channel_id(subject: str) -> str:
    return subject.replace(">", "all").replace("*", "any")


def _module(cls) -> str:
    return cls.__module__.split(".")[0]


ENVELOPE = {
    "type": "object",
    "required": ["id", "name", "subject", "payload", "metadata", "sent_at"],
    "properties": {
        "id": {"type": "string", "format": "uuid", "description": "message id; also Nats-Msg-Id, outbox and inbox key"},
        "name": {"type": "string"},
        "subject": {"type": "string"},
        "payload": {"type": "object"},
        "metadata": {"$ref": "#/components/schemas/Metadata"},
        "sent_at": {"type": "string", "format": "date-time"},
    },
}
METADATA = {
    "type": "object",
    "description": "events.md §3; values are strings except aggregate_version",
    "required": ["correlation_id", "causation_id", "traceparent"],
    "properties": {
        "correlation_id": {"type": "string"},
        "causation_id": {"type": "string"},
        "traceparent": {"type": "string", "description": "W3C trace context"},
        "tracestate": {"type": "string"},
        "actor": {"type": "string"},
        "aggregate_type": {"type": "string"},
        "aggregate_id": {"type": "string"},
        "aggregate_version": {"type": "integer"},
        "occurred_at": {"type": "string", "format": "date-time"},
    },
    "additionalProperties": {"type": "string", "description": "COMMAND_* on commands, REPLY_* on replies"},
}
HEADERS = {
    "type": "object",
    "required": ["Nats-Msg-Id", "Content-Type"],
    "properties": {
        "Nats-Msg-Id": {"type": "string", "description": "the envelope id (JetStream de-duplication)"},
        "Content-Type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string", "description": "the metadata's traceparent"},
    },
}


def document() -> dict:
    """The AsyncAPI 3.0 document as plain dicts and lists, in a stable order."""
    types = [m for m in registry.all_messages() if catalog._documented(m.cls.__module__)]
    by_name = {m.name: m for m in types}
    durables = [d for d in messaging.durables() if _documented_durable(d)]
    subjects: dict[str, list[str]] = {}
    for message_type in types:
        if _module(message_type.cls) != "eventstore":  # am.Success/am.Failure travel on the reply channels only
            subjects.setdefault(message_type.subject, []).append(message_type.name)
    for durable in durables:
        subjects.setdefault(durable.subject, [])
        for name in durable.handlers:
            if name in by_name and name not in subjects[durable.subject]:
                subjects[durable.subject].append(name)
    saga_modules = sorted({d.module for d in durables for name in d.handlers if name == "am.Success"})
    reply_channels = {d.subject for d in durables if "am.Success" in d.handlers}

    channels, operations = {}, {}
    for subject in sorted(subjects):
        channel_id = _channel_id(subject)
        names = sorted(subjects[subject])
        channels[channel_id] = {
            "address": subject,
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in names},
        }
        refs = [{"$ref": f"#/channels/{channel_id}/messages/{name}"} for name in names]
        if ".events." in subject:
            for module in sorted({_module(by_name[name].cls) for name in names}):
                own = [{"$ref": f"#/channels/{channel_id}/messages/{n}"} for n in names
                       if _module(by_name[n].cls) == module]
                operations[f"{module}.send.{channel_id}"] = {
                    "action": "send", "channel": {"$ref": f"#/channels/{channel_id}"}, "messages": own,
                    "summary": f"{module} publishes its events (outbox, relay)", "x-module": module}
        elif subject in reply_channels:
            operations[f"reply.send.{channel_id}"] = {
                "action": "send", "channel": {"$ref": f"#/channels/{channel_id}"}, "messages": refs,
                "summary": "command handlers answer here when a command's COMMAND_REPLY_CHANNEL names this subject"}
        elif names:
            operations[f"command.send.{channel_id}"] = {
                "action": "send", "channel": {"$ref": f"#/channels/{channel_id}"}, "messages": refs,
                "summary": f"commands to {_module(by_name[names[0]].cls)}, sent by the sagas of "
                           f"{', '.join(saga_modules) or 'no module'}", "x-module": _module(by_name[names[0]].cls)}
    for durable in durables:
        channel_id = _channel_id(durable.subject)
        handled = sorted(name for name in durable.handlers if name in by_name)
        operations[f"{durable.name}.receive"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"} for name in handled],
            "summary": f"durable pull consumer {durable.name} of {durable.module}",
            "x-durable": durable.name, "x-module": durable.module}

    messages, schemas = {}, {"Envelope": ENVELOPE, "Metadata": METADATA}
    for name in sorted(by_name):
        message_type = by_name[name]
        schemas[name] = _object(message_type.cls)
        messages[name] = {
            "name": name,
            "title": name.split(".", 1)[-1],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/Headers"},
            "payload": {"allOf": [{"$ref": "#/components/schemas/Envelope"}, {
                "type": "object",
                "properties": {"name": {"const": name}, "payload": {"$ref": f"#/components/schemas/{name}"}}}]},
            "correlationId": {"location": "$message.payload#/metadata/correlation_id"},
            "x-contract": f"{message_type.cls.__module__}.{message_type.cls.__qualname__}",
        }
    schemas["Headers"] = HEADERS
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "MallBots messages", "version": VERSION,
                 "description": "Generated by `manage.py asyncapi` from the message registry and the declared "
                                "durables; do not edit. NATS JetStream stream `mallbots` (subjects `mallbots.>`), "
                                "at-least-once delivery, consumers de-duplicate by message id (events.md)."},
        "defaultContentType": "application/json",
        "servers": {"development": {"host": "127.0.0.1:4222", "protocol": "nats",
                                    "description": "embedded nats-server (make run)"},
                    "compose": {"host": "nats1:4222", "protocol": "nats",
                                "description": "one of the three cluster nodes of docker-compose.yml"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=120)
