"""Run the durable pull consumers until SIGTERM/SIGINT (architecture.md §8); see ``eventstore.consumers``."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from eventstore import consumers, process_metrics


class Command(BaseCommand):
    help = ("Consume the durables of the selected modules (default: all) from NATS JetStream: inbox-first "
            "transactions, ack after commit, nak with backoff, dead letters after CONSUMER_MAX_DELIVER.")

    def add_arguments(self, parser):
        parser.add_argument("--modules", default="",
                            help="comma-separated module names, e.g. baskets,depot (default: every declared durable)")

    def handle(self, *args, modules, **options):
        wanted = [m.strip() for m in modules.split(",") if m.strip()]
        try:
            durables = consumers.selected_durables(wanted)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        process_metrics.serve(settings.METRICS_PORT)
        status = consumers.run_durables(durables)
        if status:
            raise SystemExit(status)
