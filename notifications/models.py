"""Notifications' own table (one row per order and kind, with its delivery state) and its cache of customers'
names and SMS numbers (events.md §8). Rows change only through ``notifications.services`` and the
``notifications-*`` handlers."""

from django.db import models


class Notification(models.Model):
    """``claim`` identifies the sender that holds the row while ``sending`` (set when claimed, ``claimed_at``
    starts its lease); ``attempts`` counts sends begun since the row was created or last resent."""

    STATUSES = [(s, s) for s in ("pending", "sending", "sent", "failed")]
    KINDS = [(k, k) for k in ("created", "ready", "canceled", "completed")]

    order_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=20, choices=KINDS)
    customer_id = models.CharField(max_length=64)
    sms_number = models.TextField(blank=True, default="")
    text = models.TextField()
    status = models.CharField(max_length=20, choices=STATUSES)
    attempts = models.IntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["order_id", "kind"], name="notifications_one_per_order_kind")]
        indexes = [models.Index(fields=["status", "updated_at"], name="notifications_status")]

    def __str__(self) -> str:
        return f"{self.kind} SMS for order {self.order_id} ({self.status})"


class CustomerCache(models.Model):
    id = models.CharField(max_length=64, primary_key=True)
    name = models.TextField()
    sms_number = models.TextField()
    version = models.IntegerField()

    def __str__(self) -> str:
        return self.name
