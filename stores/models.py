"""Read models of stores and products, written only by the projections in ``stores.handlers``."""

from django.db import models


class Store(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    name = models.TextField()
    location = models.TextField()
    participating = models.BooleanField(default=True)
    version = models.IntegerField()
    created_position = models.BigIntegerField(help_text="Global event position of StoreCreated (creation order).")

    class Meta:
        ordering = ["created_position"]
        indexes = [models.Index(fields=["created_position"])]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    store_id = models.CharField(max_length=64)
    name = models.TextField()
    description = models.TextField(blank=True)
    sku = models.TextField(blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    removed = models.BooleanField(default=False)
    version = models.IntegerField()
    created_position = models.BigIntegerField(help_text="Global event position of ProductAdded (creation order).")

    class Meta:
        ordering = ["created_position"]
        indexes = [models.Index(fields=["store_id", "created_position"])]

    def __str__(self) -> str:
        return self.name
