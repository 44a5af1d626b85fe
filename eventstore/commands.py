"""Commands and replies (events.md §3, §5).

Sending: ``send_command(cmd, reply_channel=..., saga=SagaHeaders(...))`` writes the command to the outbox
with the ``COMMAND_*`` metadata keys. Handling: decorate the handler with ``@command_handler``; it returns
a reply contract (or ``None`` for ``am.Success``). A ``DomainError``/``NotFound`` becomes an ``am.Failure``
reply: the message's transaction rolls back (the handler's own writes with it) and the inbox row commits
with the Failure reply in a new one (``messaging.Rejected``); any other error propagates, so the message is
retried and never turned into a Failure.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any, Callable

from eventstore import outbox
from eventstore.contracts import Failure, Success
from eventstore.errors import DomainError, NotFound
from eventstore.messaging import Handler, Received, Rejected

logger = logging.getLogger("mallbots.commands")

REPLY_CHANNEL = "COMMAND_REPLY_CHANNEL"
SUCCESS, FAILURE = "SUCCESS", "FAILURE"


@dataclass(frozen=True)
class SagaHeaders:
    saga_id: str
    saga_name: str
    step: int
    compensating: bool

    def as_metadata(self) -> dict[str, str]:
        return {
            "COMMAND_SAGA_ID": self.saga_id,
            "COMMAND_SAGA_NAME": self.saga_name,
            "COMMAND_SAGA_STEP": str(self.step),
            "COMMAND_SAGA_COMPENSATING": "true" if self.compensating else "false",
        }


def send_command(command: Any, *, reply_channel: str | None, saga: SagaHeaders | None = None) -> str:
    """Write ``command`` to the outbox on its registered subject. Precondition: inside a transaction."""
    headers: dict[str, str] = {}
    if reply_channel:
        headers[REPLY_CHANNEL] = reply_channel
    if saga is not None:
        headers.update(saga.as_metadata())
    return outbox.publish(command, headers=headers)


def reply_headers(command_metadata: dict[str, Any], outcome: str) -> dict[str, str]:
    headers = {"REPLY_" + key[len("COMMAND_"):]: str(value)
               for key, value in command_metadata.items() if key.startswith("COMMAND_")}
    headers["REPLY_OUTCOME"] = outcome
    return headers


def reply(received: Received, message: Any, outcome: str) -> str | None:
    """Write the reply for ``received`` to its reply channel; without a channel, log and send nothing."""
    channel = received.metadata.get(REPLY_CHANNEL)
    if not channel:
        logger.warning("command %s (%s) has no %s; no reply sent", received.name, received.id, REPLY_CHANNEL)
        return None
    return outbox.publish(message, subject=str(channel), headers=reply_headers(received.metadata, outcome))


def command_handler(fn: Callable[[Received], Any]) -> Handler:
    """Turn ``fn(received) -> reply | None`` into a durable handler that always answers (see module doc)."""

    @functools.wraps(fn)
    def handle(received: Received) -> None:
        try:
            result = fn(received)
        except (DomainError, NotFound) as exc:
            failure = Failure(message=exc.message)
            raise Rejected(lambda: reply(received, failure, FAILURE)) from exc
        reply(received, result if result is not None else Success(), SUCCESS)

    return handle
