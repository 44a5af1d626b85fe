"""Read models of stores and products, written only by the projections in ``stores.handlers``; store
membership of staff users, managed by store admins."""

from django.conf import settings
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


class StoreMember(models.Model):
    """A staff user who keeps one store's catalog current (product.md: store staff keep *their* store's
    catalog). Users with ``store_staff`` only change the stores they are members of; ``store_admin`` changes
    every store. Store admins manage memberships in the admin; creating a store makes its creator a member.
    Not event-sourced: like roles, it says who may act, not what happened."""

    # No database constraint: ``stores_store`` is a read model that ``rebuild_projections`` empties and
    # replays with the same ids, and a membership must outlive that.
    store = models.ForeignKey(Store, on_delete=models.DO_NOTHING, db_constraint=False, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "user"], name="stores_member_store_user")]
        verbose_name = "store member"

    def __str__(self) -> str:
        return f"{self.user} at {self.store}"


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
