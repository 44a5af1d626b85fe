"""Admin for baskets (architecture.md §13): read-only lists for depot roles (``BasketsConfig.staff_roles``),
customer names, links to the customer and payment, the "cancel basket" action through ``baskets.services``,
each basket's event history; the stores caches for superusers."""

from __future__ import annotations

from django.contrib import admin

from baskets import models, services
from customers.public import customer_names
from web.admin_commands import ReadModelAdmin, admin_link


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BasketItemInline(ReadOnly, admin.TabularInline):
    model = models.BasketItem
    fields = ("position", "product_name", "store_name", "price", "quantity", "product_id", "store_id")
    readonly_fields = fields
    extra = 0


@admin.register(models.Basket)
class BasketAdmin(ReadModelAdmin):
    stream_type = "baskets.Basket"
    list_display = ("id", "customer", "status", "total", "updated_at")
    list_filter = ("status",)
    search_fields = ("id", "customer_id", "payment_id")
    fields = ("id", "customer_link", "status", "total", "payment_link", "version", "created_at", "updated_at")
    readonly_fields = ("customer_link", "payment_link")
    inlines = (BasketItemInline,)
    actions = ("cancel_baskets",)
    page_lookups = {"customer_name": ("customer_id", customer_names)}

    @admin.display(description="Customer")
    def customer(self, obj) -> str:
        return getattr(obj, "customer_name", "") or obj.customer_id

    @admin.display(description="Customer")
    def customer_link(self, obj) -> str:
        name = customer_names([obj.customer_id]).get(obj.customer_id, "")
        return admin_link("customers", "customer", obj.customer_id, name)

    @admin.display(description="Payment")
    def payment_link(self, obj) -> str:
        return admin_link("payments", "payment", obj.payment_id)

    def has_cancel_permission(self, request) -> bool:
        """Same access level as ``DELETE /api/baskets/{id}`` for staff: a depot role (the module's roles)."""
        return self.admits(request)

    @admin.action(description="Cancel the selected baskets", permissions=["cancel"])
    def cancel_baskets(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.cancel_basket(basket_id=row.pk), "Baskets cancelled")


class CacheAdmin(ReadOnly, admin.ModelAdmin):
    """Copies of stores data, for operators (superusers) only."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(models.StoreCache)
class StoreCacheAdmin(CacheAdmin):
    list_display = ("id", "name", "participating", "removed", "version")
    search_fields = ("id", "name")


@admin.register(models.ProductCache)
class ProductCacheAdmin(CacheAdmin):
    list_display = ("id", "store_id", "name", "price", "removed", "version")
    search_fields = ("id", "name", "store_id")
