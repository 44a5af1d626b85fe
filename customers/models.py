"""Read model of customers, written only by the projections in ``customers.handlers``."""

from django.db import models


class Customer(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    name = models.TextField()
    sms_number = models.TextField()
    enabled = models.BooleanField(default=True)
    version = models.IntegerField()
    created_position = models.BigIntegerField(help_text="Global event position of CustomerRegistered.")

    class Meta:
        ordering = ["created_position"]
        indexes = [models.Index(fields=["created_position"])]

    def __str__(self) -> str:
        return self.name
