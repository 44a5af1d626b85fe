"""Admin for notifications (architecture.md §13): the list with status, attempts and last error for depot
roles, and the "resend" action through ``notifications.services`` (DepotStaff). Change pages end with the
order's event history."""

from __future__ import annotations

from django.contrib import admin
from django.template.loader import render_to_string

from access.principals import DEPOT_ADMIN, DEPOT_STAFF, has_role
from eventstore.history import stream_history
from notifications import models, services
from web.admin_commands import ReadModelAdmin


@admin.register(models.Notification)
class NotificationAdmin(ReadModelAdmin):
    list_display = ("order_id", "kind", "sms_number", "status", "attempts", "last_error", "updated_at")
    list_filter = ("status", "kind")
    search_fields = ("order_id", "customer_id", "sms_number")
    fields = ("order_id", "kind", "customer_id", "sms_number", "text", "status", "attempts", "last_error",
              "claimed_at", "sent_at", "created_at", "updated_at")
    readonly_fields = fields
    actions = ("resend_notifications",)



    def has_resend_permission(self, request) -> bool:
        return has_role(request.user, DEPOT_STAFF, DEPOT_ADMIN)

    @admin.display(description="Order events")
    def event_history(self, obj) -> str:
        return render_to_string("admin/eventstore/event_history.html",
                                {"events": stream_history("ordering.Order", obj.order_id)})

    @admin.action(description="Resend the selected notifications (to the customer's current number)",
                  permissions=["resend"])
    def resend_notifications(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.resend_notification(notification_id=row.pk),
                        "Notifications queued to send again")
