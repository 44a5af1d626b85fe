"""Baskets read models (written only by the projections in ``baskets.handlers``) and the caches of
stores data (written only by the ``baskets-stores``/``baskets-products`` handlers and cache misses)."""

from django.db import models


class Basket(models.Model):
    STATUSES = [(s, s) for s in ("open", "canceled", "checked_out")]

    id = models.CharField(max_length=64, primary_key=True)
    customer_id = models.CharField(max_length=64)
    payment_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=20, choices=STATUSES)
    total = models.DecimalField(max_digits=24, decimal_places=2)
    version = models.IntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(help_text="Last activity: when the latest event happened.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="baskets_basket_status_activity")]

    def __str__(self) -> str:
        return f"basket {self.id}"


class BasketItem(models.Model):
    basket = models.ForeignKey(Basket, on_delete=models.CASCADE, related_name="items")
    position = models.IntegerField(help_text="Order in which the product was first added.")
    store_id = models.CharField(max_length=64)
    product_id = models.CharField(max_length=64)
    store_name = models.TextField()
    product_name = models.TextField()
    price = models.DecimalField(max_digits=14, decimal_places=2)
    quantity = models.BigIntegerField(help_text="Repeated adds may sum beyond the 32-bit range of one request.")

    class Meta:
        ordering = ["basket", "position"]
        constraints = [models.UniqueConstraint(fields=["basket", "product_id"], name="baskets_item_product")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"


class StoreCache(models.Model):
    """A copy of a store as baskets needs it; ``version`` is the source aggregate's version."""

    id = models.CharField(max_length=64, primary_key=True)
    name = models.TextField()
    participating = models.BooleanField(default=True)
    version = models.IntegerField()
    removed = models.BooleanField(default=False)

    class Meta:
        verbose_name = "store (cache)"
        verbose_name_plural = "stores (cache)"

    def __str__(self) -> str:
        return self.name


class ProductCache(models.Model):
    """A copy of a catalog product; ``removed`` rows are tombstones that late events cannot resurrect."""

    id = models.CharField(max_length=64, primary_key=True)
    store_id = models.CharField(max_length=64)
    name = models.TextField()
    price = models.DecimalField(max_digits=14, decimal_places=2)
    version = models.IntegerField()
    removed = models.BooleanField(default=False)

    class Meta:
        verbose_name = "product (cache)"
        verbose_name_plural = "products (cache)"

    def __str__(self) -> str:
        return self.name
