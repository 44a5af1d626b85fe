"""Ordering read model: one row per order, written only by ordering.handlers projections."""

from django.db import models

from eventstore.codec import Decoder, Encoder


class Order(models.Model):
    id = models.CharField(max_length=64, primary_key=True)
    customer_id = models.CharField(max_length=64)
    payment_id = models.CharField(max_length=64)
    shopping_id = models.CharField(max_length=64, blank=True, default="")
    invoice_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=20, db_index=True)
    reason = models.CharField(max_length=500, blank=True, default="")
    total = models.DecimalField(max_digits=14, decimal_places=2)
    items = models.JSONField(encoder=Encoder, decoder=Decoder, default=list)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.IntegerField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"order {self.id} ({self.status})"
