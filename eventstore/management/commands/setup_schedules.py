"""Register the django-q2 schedules of architecture.md §12 idempotently (run by ``run_all``)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from django.core.management.base import BaseCommand
from django.db import transaction


@dataclass(frozen=True)
class Planned:
    name: str
    func: str
    hourly: bool = False


SCHEDULES = [
    Planned("expire-abandoned-baskets", "baskets.tasks.expire_abandoned"),
    Planned("depot-dispatch-sweep", "depot.tasks.dispatch_sweep"),
    Planned("saga-timeouts", "ordering.tasks.check_saga_timeouts"),
    Planned("sms-retry", "notifications.tasks.retry_pending"),
    Planned("lag-check", "eventstore.tasks.check_lag"),
    Planned("prune-outbox", "eventstore.tasks.prune_outbox", hourly=True),
    Planned("prune-inbox", "eventstore.tasks.prune_inbox", hourly=True),
]


def resolves(func: str) -> bool:
    """True when ``module.path.function`` imports and is callable."""
    module_name, _, attribute = func.rpartition(".")
    if not module_name:
        return False
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    return callable(getattr(module, attribute, None))


def setup_schedules(planned: list[Planned] = SCHEDULES) -> dict[str, list[str]]:
    """Create or update each planned schedule whose function imports; delete schedules whose function
    does not resolve (any name). Returns the names registered, skipped and deleted."""
    from django_q.models import Schedule

    result: dict[str, list[str]] = {"registered": [], "skipped": [], "deleted": []}
    with transaction.atomic():
        for plan in planned:
            if not resolves(plan.func):
                result["skipped"].append(plan.name)
                continue
            duplicates = list(Schedule.objects.filter(name=plan.name).order_by("pk").values_list("pk", flat=True))
            Schedule.objects.filter(pk__in=duplicates[1:]).delete()
            kind = {"schedule_type": Schedule.HOURLY, "minutes": None} if plan.hourly else {
                "schedule_type": Schedule.MINUTES, "minutes": 1}
            Schedule.objects.update_or_create(name=plan.name, defaults={"func": plan.func, "repeats": -1, **kind})
            result["registered"].append(plan.name)
        for schedule in Schedule.objects.all():
            if not resolves(schedule.func):
                result["deleted"].append(schedule.name or schedule.func)
                schedule.delete()
    return result


class Command(BaseCommand):
    help = "Register the django-q2 schedules (architecture.md §12) whose functions exist; drop stale ones."

    def handle(self, *args, **options):
        result = setup_schedules()
        self.stdout.write("schedules registered: " + (", ".join(result["registered"]) or "none"))
        if result["skipped"]:
            self.stdout.write("not yet available: " + ", ".join(result["skipped"]))
        if result["deleted"]:
            self.stdout.write("deleted stale: " + ", ".join(result["deleted"]))
