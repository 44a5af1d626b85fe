from django.db import models


class Tally(models.Model):
    """What the toy consumer saw: one row per counter, the sum of increments and the handled count."""

    counter_id = models.CharField(max_length=64, primary_key=True)
    total = models.IntegerField(default=0)
    handled = models.IntegerField(default=0)
    order = models.JSONField(default=list)


class Fault(models.Model):
    """Failure switches the toy consumer reads at run time (works across processes)."""

    durable = models.CharField(max_length=100, primary_key=True)
    fail_first_deliveries = models.IntegerField(default=0)
    always_fail = models.BooleanField(default=False)
