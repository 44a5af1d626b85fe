"""Orders in the admin (architecture.md §13): the read model for depot roles (``OrderingConfig.staff_roles``)
with customer names, links to the order's customer, shopping list, bot, payment and invoice, and the
cancel / ready / complete actions through the services."""

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from customers.public import customer_names
from depot.public import bot_names, find_shopping_list
from ordering import models, services
from payments.public import find_invoice
from ordering.domain import STAFF
from web.admin_commands import ReadModelAdmin, admin_link


@admin.register(models.Order)
class OrderAdmin(ReadModelAdmin):
    """Orders are read-only here; the actions call the services (depot roles, as the API's DepotStaff)."""

    stream_type = "ordering.Order"
    list_display = ("id", "customer", "status", "total", "created_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("id", "customer_id", "payment_id", "shopping_id")
    actions = ["cancel_orders", "ready_orders", "complete_orders"]
    fields = ("id", "customer_link", "status", "reason", "total", "item_lines", "shopping_list_link", "bot_link",
              "payment_link", "invoice_link", "created_at", "updated_at", "version")
    readonly_fields = fields
    page_lookups = {"customer_name": ("customer_id", customer_names)}


    def has_depot_staff_permission(self, request) -> bool:
        """Same access level as ``PUT /api/ordering/{id}/ready|complete`` (DepotStaff: the module's roles)."""
        return self.admits(request)

    @admin.display(description="Customer", ordering="customer_id")
    def customer(self, obj) -> str:
        return getattr(obj, "customer_name", "") or obj.customer_id

    @admin.display(description="Customer")
    def customer_link(self, obj) -> str:
        return admin_link("customers", "customer", obj.customer_id,
                          customer_names([obj.customer_id]).get(obj.customer_id, ""))

    @admin.display(description="Items")
    def item_lines(self, obj) -> str:
        return format_html_join(mark_safe("<br>"), "{} × {} ({}) at {}", (
            (item["quantity"], item["product_name"], item["store_name"], item["price"]) for item in obj.items))

    @admin.display(description="Shopping list")
    def shopping_list_link(self, obj) -> str:
        return admin_link("depot", "shoppinglist", obj.shopping_id)

    @admin.display(description="Bot")
    def bot_link(self, obj) -> str:
        shopping_list = find_shopping_list(obj.shopping_id) if obj.shopping_id else None
        bot_id = shopping_list.assigned_bot_id if shopping_list else ""
        return admin_link("depot", "bot", bot_id, bot_names([bot_id]).get(bot_id, "")) if bot_id else ""

    @admin.display(description="Payment")
    def payment_link(self, obj) -> str:
        return admin_link("payments", "payment", obj.payment_id)

    @admin.display(description="Invoice")
    def invoice_link(self, obj) -> str:
        invoice = find_invoice(obj.invoice_id or obj.id)
        return admin_link("payments", "invoice", invoice.id) if invoice else ""

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
