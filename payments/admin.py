"""Admin for payments and invoices (architecture.md §13): read-only lists of the read models for depot
roles (``PaymentsConfig.staff_roles``) with customer names, links to the order, payment and invoice, the
"pay invoice" action through ``payments.services``, and each aggregate's event history."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import OuterRef, Subquery

from customers.public import customer_names
from payments import models, services
from web.admin_commands import ReadModelAdmin, admin_link


class ReadOnlyAdmin(ReadModelAdmin):
    """A read model: viewable by depot roles, never added, changed or deleted through the admin; customer
    names on each changelist page (``customer_id`` of the row, or ``payment_customer_id`` annotated)."""

    customer_field = "customer_id"

    def __init__(self, model, admin_site):
        self.page_lookups = {"customer_name": (self.customer_field, customer_names)}
        super().__init__(model, admin_site)

    @admin.display(description="Customer")
    def customer(self, obj) -> str:
        return getattr(obj, "customer_name", "") or getattr(obj, self.customer_field)

    @admin.display(description="Order")
    def order_link(self, obj) -> str:
        return admin_link("ordering", "order", obj.order_id)



@admin.register(models.Payment)
class PaymentAdmin(ReadOnlyAdmin):
    stream_type = "payments.Payment"
    list_display = ("id", "customer", "amount", "status", "order_link", "updated_at")
    list_filter = ("status",)
    search_fields = ("id", "customer_id", "order_id")
    fields = ("id", "customer_link", "amount", "status", "order_link", "invoice_link", "version", "created_at",
              "updated_at")
    readonly_fields = ("customer_link", "order_link", "invoice_link")

    @admin.display(description="Customer")
    def customer_link(self, obj) -> str:
        return admin_link("customers", "customer", obj.customer_id,
                          customer_names([obj.customer_id]).get(obj.customer_id, ""))

    @admin.display(description="Invoice")
    def invoice_link(self, obj) -> str:
        invoice = models.Invoice.objects.filter(payment_id=obj.pk).values_list("id", flat=True).first()
        return admin_link("payments", "invoice", invoice or "")


@admin.register(models.Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    stream_type = "payments.Invoice"
    customer_field = "payment_customer_id"
    list_display = ("id", "customer", "amount", "status", "refund_required", "order_link", "updated_at")
    list_filter = ("status", "refund_required")
    search_fields = ("id", "order_id", "payment_id")
    fields = ("id", "order_link", "payment_link", "amount", "status", "refund_required", "version", "created_at",
              "updated_at")
    readonly_fields = ("order_link", "payment_link")
    actions = ("pay_invoices",)

    def get_queryset(self, request):
        payment_customer = models.Payment.objects.filter(pk=OuterRef("payment_id")).values("customer_id")[:1]
        return super().get_queryset(request).annotate(payment_customer_id=Subquery(payment_customer))

    @admin.display(description="Payment")
    def payment_link(self, obj) -> str:
        return admin_link("payments", "payment", obj.payment_id)

    def has_pay_permission(self, request) -> bool:
        """Same access level as ``PUT /api/payments/invoices/{id}/pay`` (DepotStaff: the module's roles)."""
        return self.admits(request)

    @admin.action(description="Pay the selected invoices (capture their payments)", permissions=["pay"])
    def pay_invoices(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.pay_invoice(invoice_id=row.pk), "Invoices paid")
