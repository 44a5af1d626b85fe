"""The message envelope of events.md §2: what goes over NATS and into outbox, inbox and dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventstore import codec, registry, schema


class MalformedMessage(ValueError):
    """The bytes are not an envelope (bad JSON, wrong shape)."""


@dataclass(frozen=True)
class Envelope:
    id: str
    name: str
    subject: str
    payload: dict[str, Any]
    metadata: dict[str, Any]
    sent_at: str

    def to_json(self) -> bytes:
        return codec.dumps({
            "id": self.id, "name": self.name, "subject": self.subject, "payload": self.payload,
            "metadata": self.metadata, "sent_at": self.sent_at,
        }).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> "Envelope":
        try:
            raw = codec.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedMessage(f"not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise MalformedMessage("envelope is not an object")
        try:
            envelope = cls(id=str(raw["id"]), name=str(raw["name"]), subject=str(raw["subject"]),
                           payload=raw["payload"], metadata=raw.get("metadata") or {},
                           sent_at=str(raw.get("sent_at") or ""))
        except KeyError as exc:
            raise MalformedMessage(f"envelope lacks {exc}") from exc
        if not isinstance(envelope.payload, dict) or not isinstance(envelope.metadata, dict):
            raise MalformedMessage("payload and metadata must be objects")
        return envelope

    def message(self) -> Any:
        """The registered contract dataclass for this envelope's name and payload."""
        message_type = registry.message_type(self.name)
        if message_type is None:
            raise MalformedMessage(f"unknown message name {self.name}")
        try:
            return schema.from_dict(message_type.cls, self.payload)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise MalformedMessage(f"payload does not match {self.name}: {exc}") from exc
