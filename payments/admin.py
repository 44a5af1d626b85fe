"""Admin for payments and invoices (architecture.md §13): read-only lists of the read models for depot
roles, the "pay invoice" action through ``payments.services``, and each aggregate's event history."""

from __future__ import annotations

from django.contrib import admin

from access.principals import DEPOT_ADMIN, DEPOT_STAFF, has_role
from payments import models, services
from web.admin_commands import ReadModelAdmin


class ReadOnlyAdmin(ReadModelAdmin):
    """A read model: viewable by depot roles, never added, changed or deleted through the admin."""

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


@admin.register(models.Payment)
class PaymentAdmin(ReadOnlyAdmin):
    stream_type = "payments.Payment"
    list_display = ("id", "customer_id", "amount", "status", "order_id", "updated_at")
    list_filter = ("status",)
    search_fields = ("id", "customer_id", "order_id")
    fields = ("id", "customer_id", "amount", "status", "order_id", "version", "created_at", "updated_at")


@admin.register(models.Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    stream_type = "payments.Invoice"
    list_display = ("id", "payment_id", "amount", "status", "refund_required", "updated_at")
    list_filter = ("status", "refund_required")
    search_fields = ("id", "order_id", "payment_id")
    fields = ("id", "order_id", "payment_id", "amount", "status", "refund_required", "version", "created_at",
              "updated_at")
    actions = ("pay_invoices",)

    def has_pay_permission(self, request) -> bool:
        """Same access level as ``PUT /api/payments/invoices/{id}/pay`` (DepotStaff)."""
        return has_role(request.user, DEPOT_STAFF, DEPOT_ADMIN)

    @admin.action(description="Pay the selected invoices (capture their payments)", permissions=["pay"])
    def pay_invoices(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.pay_invoice(invoice_id=row.pk), "Invoices paid")
