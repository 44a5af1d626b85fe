from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from eventstore import catalog

DEFAULT_PATH = Path(settings.BASE_DIR) / "docs" / "event-catalog.md"


class Command(BaseCommand):
    help = "Write the event catalog (docs/event-catalog.md) from the registries; --check fails if it is stale."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, check, **options):
        text = catalog.render()
        if check:
            if not DEFAULT_PATH.exists() or DEFAULT_PATH.read_text() != text:
                raise SystemExit("docs/event-catalog.md is stale: run manage.py event_catalog")
            return
        DEFAULT_PATH.write_text(text)
        self.stdout.write(f"wrote {DEFAULT_PATH}")
