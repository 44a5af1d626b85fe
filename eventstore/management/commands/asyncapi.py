from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from eventstore import asyncapi

DEFAULT_PATH = Path(settings.BASE_DIR) / "docs" / "asyncapi.yaml"


class Command(BaseCommand):
    help = "Write the AsyncAPI 3 document (docs/asyncapi.yaml) from the registries; --check fails if it is stale."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, check, **options):
        text = asyncapi.render()
        if check:
            if not DEFAULT_PATH.exists() or DEFAULT_PATH.read_text() != text:
                raise SystemExit("docs/asyncapi.yaml is stale: run manage.py asyncapi")
            return
        DEFAULT_PATH.write_text(text)
        self.stdout.write(f"wrote {DEFAULT_PATH}")
