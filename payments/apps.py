from django.apps import AppConfig

from access.principals import DEPOT_ADMIN, DEPOT_STAFF


class PaymentsConfig(AppConfig):
    name = "payments"
    staff_roles = (DEPOT_STAFF, DEPOT_ADMIN)  # their groups get this app's model permissions (setup_roles)

    def ready(self):
        from eventstore import messaging, projections
        from ordering.contracts import ORDER_EVENTS
        from payments import contracts, domain, handlers, models  # noqa: F401

        projections.declare(app=self.label, tables=[models.Payment, models.Invoice])

        messaging.declare(name="payments-commands", module="payments", subject=contracts.PAYMENTS_COMMANDS,
                          handlers={"paymentsapi.ConfirmPayment": handlers.on_confirm_payment})
        messaging.declare(name="payments-orders", module="payments", subject=ORDER_EVENTS, handlers={
            "ordersapi.OrderRejected": handlers.on_order_rejected,
            "ordersapi.OrderReadied": handlers.on_order_readied,
            "ordersapi.OrderCanceled": handlers.on_order_canceled,
        })

        from eventstore import audit
        from payments import audits

        audit.declare("money-adds-up", audits.captured_equals_paid)
        audit.declare("payments-follow-orders", audits.payments_follow_orders)
