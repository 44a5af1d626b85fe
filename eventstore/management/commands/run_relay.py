"""Run the outbox relay until SIGTERM/SIGINT (architecture.md §7); see ``eventstore.relay``."""

from django.conf import settings
from django.core.management.base import BaseCommand

from eventstore import loop, process_metrics
from eventstore.relay import Relay


class Command(BaseCommand):
    help = "Publish committed outbox rows to NATS JetStream in order (one active relay, others stand by)."

    def handle(self, *args, **options):
        process_metrics.serve(settings.METRICS_PORT)
        loop.run(Relay().run())
