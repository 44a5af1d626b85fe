from django.db import models


class Tally(models.Model):
    """What the toy consumer saw: one row per counter, the sum of increments and the handled count."""

    counter_id = models.CharField(max_length=64, primary_key=True)
    total = models.IntegerField(default=0)
    handled = models.IntegerField(default=0)
    order = models.JSONField(default=list)


class Fault(models.Model):
    """Failure switches the toy consumer reads at run time (works across processes); with ``only_counter`` they
    apply to that counter's messages only (a poison message among healthy ones)."""

    durable = models.CharField(max_length=100, primary_key=True)
    fail_first_deliveries = models.IntegerField(default=0)
    always_fail = models.BooleanField(default=False)
    only_counter = models.CharField(max_length=64, blank=True, default="")


class SagaParticipant(models.Model):
    """Toy saga participants: per command name, the failure text to answer with ("" = succeed) and a run count."""

    command = models.CharField(max_length=100, primary_key=True)
    fail_with = models.TextField(blank=True, default="")
    handled = models.IntegerField(default=0)


class Shipment(models.Model):
    """What the toy saga is about: ``cancelled`` is set by tests while a step is in flight."""

    id = models.CharField(max_length=64, primary_key=True)
    status = models.CharField(max_length=20, default="pending")
    cancelled = models.BooleanField(default=False)
    reason = models.TextField(blank=True, default="")
