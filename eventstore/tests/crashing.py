"""Kernel processes that die at a chosen moment, like ``kill -9`` (quality.md §2): the crash is injected
here, by the tests, never by a switch in the production code.

``python -m eventstore.tests.crashing <hook> <manage.py command> [args…]`` installs the hook, then runs the
command exactly as ``manage.py`` would:

- ``relay-after-ack``: the relay exits with status 137 right after the first batch that got an ack,
  before marking it published;
- ``consumer-after-commit``: the consumer runner exits with status 70 right after the first batch whose
  handler transaction committed, before any ack.
"""

from __future__ import annotations

import logging
import os
import sys

RELAY_EXIT_STATUS = 137
CONSUMER_EXIT_STATUS = 70

logger = logging.getLogger("mallbots.tests.crashing")


def _die(status: int, why: str) -> None:
    logger.warning("crash hook: %s", why)
    logging.shutdown()
    os._exit(status)


def relay_after_ack() -> None:
    from eventstore.relay import Relay

    settle = Relay._settle

    async def settle_then_die(self, batch) -> None:
        await settle(self, batch)
        if batch.acked:
            _die(RELAY_EXIT_STATUS, f"relay exiting after {batch.acked} acks, before marking")

    Relay._settle = settle_then_die


def consumer_after_commit() -> None:
    from eventstore import consumers, messaging

    process_batch = consumers.process_batch

    def process_then_die(durable, batch, **kwargs):
        verdicts = process_batch(durable, batch, **kwargs)
        if any(verdict.outcome == messaging.Outcome.HANDLED.value for verdict in verdicts):
            _die(CONSUMER_EXIT_STATUS, f"{durable.name} exiting after commit, before the ack")
        return verdicts

    consumers.process_batch = process_then_die


HOOKS = {"relay-after-ack": relay_after_ack, "consumer-after-commit": consumer_after_commit}


def main(argv: list[str]) -> None:
    import django
    from django.core.management import execute_from_command_line

    hook, command = argv[0], argv[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mallbots_site.settings")
    django.setup()
    HOOKS[hook]()
    execute_from_command_line(["manage.py", *command])


if __name__ == "__main__":
    main(sys.argv[1:])
