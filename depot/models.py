"""Depot read models (written only by ``depot.handlers`` projections) and caches of stores data."""

from django.db import models


class ShoppingList(models.Model):
    """One row per shopping list; ``stops`` holds the stops with their items as the API shows them:
    ``[{store_id, store_name, store_location, items: [{product_id, product_name, quantity, picked_quantity,
    status}]}]``."""

    id = models.CharField(primary_key=True, max_length=64)
    order_id = models.TextField(unique=True)
    status = models.CharField(max_length=16, db_index=True)
    assigned_bot_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    stops = models.JSONField(default=list)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.IntegerField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="depot_list_newest"),
                   models.Index(fields=["status", "created_at"], name="depot_list_oldest_by_status")]

    def __str__(self) -> str:
        return f"shopping list {self.id} (order {self.order_id})"


class StoreCache(models.Model):
    """Stores as the depot knows them (events.md §8): version guard on the stores aggregate version."""

    id = models.CharField(primary_key=True, max_length=64)
    name = models.TextField()
    location = models.TextField()
    participating = models.BooleanField(default=True)
    version = models.IntegerField()
    removed = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class ProductCache(models.Model):
    """Products as the depot knows them; a removed product stays as a tombstone (``removed``)."""

    id = models.CharField(primary_key=True, max_length=64)
    store_id = models.CharField(max_length=64)
    name = models.TextField()
    version = models.IntegerField()
    removed = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class Bot(models.Model):
    """One row per bot. ``available_since`` is when it last became idle (``None`` while offline or active):
    dispatch gives the oldest available list to the bot idle the longest."""

    id = models.CharField(primary_key=True, max_length=64)
    name = models.TextField()
    status = models.CharField(max_length=16)
    shopping_list_id = models.CharField(max_length=64, blank=True, default="")
    available_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.IntegerField()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["status", "available_since"], name="depot_bot_idle_longest")]

    def __str__(self) -> str:
        return self.name
