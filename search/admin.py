"""Admin for the search read model (architecture.md §13): a read-only list of search orders for depot roles,
with the ordering aggregate's event history (the row's key is the order id)."""

from __future__ import annotations

from django.contrib import admin

from access.principals import DEPOT_ADMIN, DEPOT_STAFF, has_role
from search import models
from web.admin_commands import ReadModelAdmin


@admin.register(models.Order)
class SearchOrderAdmin(ReadModelAdmin):
    stream_type = "ordering.Order"
    list_display = ("order_id", "customer_name", "status", "total", "created_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("order_id", "customer_id", "customer_name")
    fields = ("order_id", "customer_id", "customer_name", "status", "total", "items", "product_ids", "store_ids",
              "created_at", "updated_at", "version", "items_version")

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, DEPOT_STAFF, DEPOT_ADMIN)

    def has_module_permission(self, request):
        return has_role(request.user, DEPOT_STAFF, DEPOT_ADMIN)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
