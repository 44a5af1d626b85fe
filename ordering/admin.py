"""Orders in the admin: the read model, with cancel / ready / complete actions through the services."""

from django.contrib import admin, messages

from eventstore import context
from eventstore.errors import ConcurrencyError, DomainError, NotFound
from eventstore.history import EventHistoryMixin
from mallbots_site.auth import DEPOT_ADMIN, DEPOT_STAFF, actor_of, has_role
from ordering import models, services
from ordering.domain import STAFF


def _run(modeladmin, request, queryset, command, done: str) -> None:
    if not has_role(request.user, DEPOT_STAFF, DEPOT_ADMIN):
        modeladmin.message_user(request, "permission denied", messages.ERROR)
        return
    with context.use(context.current().with_actor(actor_of(request.user))):
        for order in queryset:
            try:
                command(order_id=order.id)
                modeladmin.message_user(request, f"order {order.id}: {done}")
            except (DomainError, NotFound, ConcurrencyError) as refused:
                modeladmin.message_user(request, f"order {order.id}: {refused.message}", messages.ERROR)


@admin.action(description="Cancel selected orders")
def cancel_orders(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, lambda order_id: services.cancel_order(order_id=order_id, reason=STAFF),
         "cancelled")


@admin.action(description="Mark selected orders ready (shopping list completed)")
def ready_orders(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.ready_order, "ready")


@admin.action(description="Complete selected orders (invoice paid)")
def complete_orders(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.complete_order, "completed")


@admin.register(models.Order)
class OrderAdmin(EventHistoryMixin, admin.ModelAdmin):
    stream_type = "ordering.Order"
    list_display = ("id", "customer_id", "status", "total", "created_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("id", "customer_id", "payment_id", "shopping_id")
    actions = [cancel_orders, ready_orders, complete_orders]
    readonly_fields = ("id", "customer_id", "payment_id", "shopping_id", "invoice_id", "status", "reason",
                       "total", "items", "created_at", "updated_at", "version")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
