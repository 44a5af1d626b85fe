"""Orders in the admin: the read model, with cancel / ready / complete actions through the services."""

from django.contrib import admin

from access.principals import DEPOT_ADMIN, DEPOT_STAFF, has_role
from ordering import models, services
from ordering.domain import STAFF
from web.admin_commands import ReadModelAdmin


@admin.register(models.Order)
class OrderAdmin(ReadModelAdmin):
    """Orders are read-only here; the actions call the services (depot roles, as the API's DepotStaff)."""

    stream_type = "ordering.Order"
    list_display = ("id", "customer_id", "status", "total", "created_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("id", "customer_id", "payment_id", "shopping_id")
    actions = ["cancel_orders", "ready_orders", "complete_orders"]
    readonly_fields = ("id", "customer_id", "payment_id", "shopping_id", "invoice_id", "status", "reason",
                       "total", "items", "created_at", "updated_at", "version")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_depot_staff_permission(self, request) -> bool:
        return has_role(request.user, DEPOT_STAFF, DEPOT_ADMIN)

    @admin.action(description="Cancel selected orders", permissions=["depot_staff"])
    def cancel_orders(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.cancel_order(order_id=row.id, reason=STAFF),
                        "Orders cancelled")

    @admin.action(description="Mark selected orders ready (shopping list completed)", permissions=["depot_staff"])
    def ready_orders(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.ready_order(order_id=row.id), "Orders ready")

    @admin.action(description="Complete selected orders (invoice paid)", permissions=["depot_staff"])
    def complete_orders(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.complete_order(order_id=row.id), "Orders completed")
