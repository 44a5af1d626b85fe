"""Admin for the search read model (architecture.md §13): a read-only list of search orders for depot roles,
with the ordering aggregate's event history (the row's key is the order id)."""

from __future__ import annotations

from django.contrib import admin

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


