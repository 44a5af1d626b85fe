"""Run the outbox relay until SIGTERM/SIGINT (architecture.md §7); see ``eventstore.relay``."""

import asyncio

from django.core.management.base import BaseCommand

from eventstore.relay import Relay


class Command(BaseCommand):
    help = "Publish committed outbox rows to NATS JetStream in order (one active relay, others stand by)."

    def handle(self, *args, **options):
        asyncio.run(Relay().run())
