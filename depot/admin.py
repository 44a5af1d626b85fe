"""Admin for shopping lists (architecture.md §13): a read-only list of the read model for depot roles,
the actions "initiate" and "cancel" through ``depot.services``, and each list's event history."""

from __future__ import annotations

from django.contrib import admin

from access.principals import DEPOT_ADMIN, DEPOT_STAFF, has_role
from depot import models, services
from eventstore import codec
from web.admin_commands import ReadModelAdmin


@admin.register(models.ShoppingList)
class ShoppingListAdmin(ReadModelAdmin):
    stream_type = "depot.ShoppingList"
    list_display = ("id", "order_id", "status", "assigned_bot_id", "item_count", "created_at")
    list_filter = ("status",)
    search_fields = ("id", "order_id", "assigned_bot_id")
    fields = ("id", "order_id", "status", "assigned_bot_id", "items", "version", "created_at", "updated_at")
    readonly_fields = ("items",)
    actions = ("initiate_lists", "cancel_lists")

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

    def has_depot_staff_permission(self, request) -> bool:
        """Same access level as ``PUT …/initiate`` and ``DELETE /api/depot/shopping/{id}`` (DepotStaff)."""
        return has_role(request.user, DEPOT_STAFF, DEPOT_ADMIN)

    @admin.display(description="Items")
    def item_count(self, obj) -> int:
        return sum(len(stop["items"]) for stop in obj.stops)

    @admin.display(description="Stops and items")
    def items(self, obj) -> str:
        return codec.dumps(obj.stops)

    @admin.action(description="Initiate the selected shopping lists", permissions=["depot_staff"])
    def initiate_lists(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.initiate_shopping(list_id=row.pk),
                        "Shopping lists initiated")

    @admin.action(description="Cancel the selected shopping lists", permissions=["depot_staff"])
    def cancel_lists(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.cancel_shopping_list(list_id=row.pk),
                        "Shopping lists canceled")
