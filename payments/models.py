"""Payments read models, written only by the projections in ``payments.handlers``."""

from django.db import models


class Payment(models.Model):
    STATUSES = [(s, s) for s in ("authorized", "confirmed", "captured", "released")]

    id = models.CharField(max_length=64, primary_key=True)
    customer_id = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=20, choices=STATUSES)
    order_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    version = models.IntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"payment {self.id}"


class Invoice(models.Model):
    STATUSES = [(s, s) for s in ("pending", "paid", "canceled")]

    id = models.CharField(max_length=64, primary_key=True)
    order_id = models.CharField(max_length=64)
    payment_id = models.CharField(max_length=64, db_index=True)
    amount = models.DecimalField(max_digits=24, decimal_places=2, help_text="The delivered order total.")
    status = models.CharField(max_length=20, choices=STATUSES)
    refund_required = models.BooleanField(default=False)
    version = models.IntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invoice {self.id}"
