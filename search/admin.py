"""Admin for the search read model (architecture.md §13): a read-only list of search orders for depot roles,
with the ordering aggregate's event history (the row's key is the order id). The change page names the items
as the search API does (ADR 34)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join

from search import models, selectors
from web.admin_commands import ReadModelAdmin


@admin.register(models.Order)
class SearchOrderAdmin(ReadModelAdmin):
    stream_type = "ordering.Order"
    list_display = ("order_id", "customer_name", "status", "total", "created_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("order_id", "customer_id", "customer_name")
    fields = ("order_id", "customer_id", "customer_name", "status", "total", "named_items", "product_ids",
              "store_ids", "created_at", "updated_at", "version", "items_version")
    readonly_fields = ("named_items",)

    @admin.display(description="items")
    def named_items(self, row: models.Order) -> str:
        [named] = selectors.named([row])
        return format_html_join("", "<div>{} × {} ({}) at {}</div>", (
            (item["quantity"], item["product_name"], item["store_name"], item["price"]) for item in named.items))
