"""Register the django-q2 schedules the apps declared (architecture.md §12) idempotently (run by ``run_all``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from eventstore.schedules import setup_schedules


class Command(BaseCommand):
    help = "Register the declared django-q2 schedules (architecture.md §12) whose functions exist; drop stale ones."

    def handle(self, *args, **options):
        result = setup_schedules()
        self.stdout.write("schedules registered: " + (", ".join(result["registered"]) or "none"))
        if result["skipped"]:
            self.stdout.write("not yet available: " + ", ".join(result["skipped"]))
        if result["deleted"]:
            self.stdout.write("deleted stale: " + ", ".join(result["deleted"]))
