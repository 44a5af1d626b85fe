"""Scheduled jobs (architecture.md §12): apps declare them in ``AppConfig.ready()``, the kernel registers them.

    schedules.declare(name="expire-abandoned-baskets", func="baskets.tasks.expire_abandoned")

``func`` is the dotted path django-q2 stores and imports. ``setup_schedules()`` (the ``setup_schedules``
command, run by ``run_all``) writes the declared schedules to django-q2 idempotently; a declared job whose
function does not exist yet is skipped ("not yet available"), and a stored schedule whose function no
longer resolves is deleted.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class Planned:
    name: str
    func: str
    hourly: bool = False


_planned: dict[str, Planned] = {}


def declare(*, name: str, func: str, hourly: bool = False) -> Planned:
    """Plan ``func`` every minute (``hourly``: every hour) under the schedule name ``name``."""
    plan = Planned(name=name, func=func, hourly=hourly)
    existing = _planned.get(name)
    if existing is not None and existing != plan:
        raise ValueError(f"schedule {name} declared twice with different settings")
    _planned[name] = plan
    return plan


def planned() -> list[Planned]:
    """Every declared schedule, in declaration order."""
    return list(_planned.values())


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


def setup_schedules(plans: list[Planned] | None = None) -> dict[str, list[str]]:
    """Create or update each planned schedule (default: every declared one) whose function imports; delete
    stored schedules whose function does not resolve (any name). Returns the names registered, skipped and
    deleted. One transaction."""
    from django_q.models import Schedule

    result: dict[str, list[str]] = {"registered": [], "skipped": [], "deleted": []}
    with transaction.atomic():
        for plan in planned() if plans is None else plans:
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
