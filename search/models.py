"""Search read model ``search_order`` (architecture.md §9) and the caches of customers and stores data it is
built from (events.md §8). Written only by the ``search-*`` durables' handlers and cache misses."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from eventstore.codec import Decoder, Encoder


class Order(models.Model):
    """One order as search shows it; ``items`` = [{product_id, store_id, price, quantity}] (the delivered items
    once ready; the API adds the names the caches hold, ADR 34). ``version`` is the ordering aggregate's
    version of the last applied event; ``items_version`` that of the event the items and total come from."""

    order_id = models.CharField(max_length=64, primary_key=True)
    customer_id = models.CharField(max_length=64)
    customer_name = models.TextField(blank=True, default="")
    items = models.JSONField(encoder=Encoder, decoder=Decoder, default=list)
    product_ids = ArrayField(models.CharField(max_length=64), default=list)
    store_ids = ArrayField(models.CharField(max_length=64), default=list)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=20)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.IntegerField()
    items_version = models.IntegerField()

    class Meta:
        db_table = "search_order"
        ordering = ["-created_at", "-order_id"]
        indexes = [
            models.Index(fields=["-created_at", "-order_id"], name="search_order_newest_first"),
            GinIndex(fields=["product_ids"], name="search_order_product_ids"),
            GinIndex(fields=["store_ids"], name="search_order_store_ids"),
            models.Index(fields=["customer_id", "-created_at"], name="search_order_customer"),
            models.Index(fields=["status", "-created_at"], name="search_order_status"),
            models.Index(fields=["total"], name="search_order_total"),
            models.Index(fields=["updated_at"], name="search_order_updated"),
        ]
        verbose_name = "search order"

    def __str__(self) -> str:
        return f"order {self.order_id} ({self.status})"


class CustomerCache(models.Model):
    id = models.CharField(max_length=64, primary_key=True)
    name = models.TextField()
    version = models.IntegerField()

    def __str__(self) -> str:
        return self.name


class StoreCache(models.Model):
    id = models.CharField(max_length=64, primary_key=True)
    name = models.TextField()
    version = models.IntegerField()

    def __str__(self) -> str:
        return self.name


class ProductCache(models.Model):
    """``removed`` rows are tombstones: late events cannot bring them back; their names stay for old orders."""

    id = models.CharField(max_length=64, primary_key=True)
    store_id = models.CharField(max_length=64)
    name = models.TextField()
    version = models.IntegerField()
    removed = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name
