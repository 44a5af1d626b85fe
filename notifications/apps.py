from django.apps import AppConfig

from access.principals import DEPOT_ADMIN, DEPOT_STAFF


class NotificationsConfig(AppConfig):
    name = "notifications"
    staff_roles = (DEPOT_STAFF, DEPOT_ADMIN)  # their groups get this app's model permissions (setup_roles)

    def ready(self):
        from customers.contracts import CUSTOMER_SUBJECT
        from eventstore import messaging, metrics, projections, schedules
        from notifications import domain, handlers, models, public
        from ordering.contracts import ORDER_EVENTS

        messaging.declare(name="notifications-customers", module="notifications", subject=CUSTOMER_SUBJECT, handlers={
            "customersapi.CustomerRegistered": handlers.on_customer_registered,
            "customersapi.CustomerSmsChanged": handlers.on_sms_number_changed,
            "customersapi.CustomerEnabled": handlers.on_customer_changed,
            "customersapi.CustomerDisabled": handlers.on_customer_changed,
        })
        messaging.declare(name="notifications-orders", module="notifications", subject=ORDER_EVENTS,
                          handlers={name: handlers.on_order_event for name in domain.KIND_OF})
        schedules.declare(name="sms-retry", func="notifications.tasks.retry_pending")
        metrics.declare_gauge("mallbots_notifications", "Notifications by status", ["status"], public.counts_by_status)
        # The notifications themselves are a record of what was sent, not a projection: only the cache is rebuilt.
        projections.declare(app=self.label, tables=[models.CustomerCache], durables=["notifications-customers"],
                            sources=["customers.Customer"])
