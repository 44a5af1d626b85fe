from django.apps import AppConfig

from access.principals import DEPOT_ADMIN, DEPOT_STAFF


class OrderingConfig(AppConfig):
    name = "ordering"
    staff_roles = (DEPOT_STAFF, DEPOT_ADMIN)  # their groups get this app's model permissions (setup_roles)

    def ready(self):
        from eventstore import messaging, projections, sagas, schedules
        from ordering import contracts, handlers, models, saga  # noqa: F401

        projections.declare(app=self.label, tables=[models.Order])

        messaging.declare(name="ordering-baskets", module="ordering", subject="mallbots.baskets.events.Basket",
                          handlers={"basketsapi.BasketCheckedOut": handlers.on_basket_checked_out})
        messaging.declare(name="ordering-depot", module="ordering", subject="mallbots.depot.events.ShoppingList",
                          handlers={"depotapi.ShoppingListStarted": handlers.on_shopping_list_started,
                                    "depotapi.ShoppingListCompleted": handlers.on_shopping_list_completed,
                                    "depotapi.ShoppingListCanceled": handlers.on_shopping_list_canceled})
        messaging.declare(name="ordering-payments", module="ordering", subject="mallbots.payments.events.Invoice",
                          handlers={"paymentsapi.InvoicePaid": handlers.on_invoice_paid})
        messaging.declare(name="ordering-commands", module="ordering", subject=contracts.ORDERING_COMMANDS,
                          handlers={"ordersapi.ApproveOrder": handlers.approve_order,
                                    "ordersapi.RejectOrder": handlers.reject_order})
        sagas.declare_replies(saga.CREATE_ORDER, durable="ordering-replies", module="ordering")
        schedules.declare(name="saga-timeouts", func="ordering.tasks.check_saga_timeouts")

        from eventstore import audit
        from ordering import audits

        audit.declare("checkouts-ordered", audits.checkouts_ordered)
        audit.declare("orders-settled", audits.orders_settled)
        audit.declare("completed-orders-paid", audits.completed_orders_paid)

        from eventstore import metrics
        from ordering.models import Order

        metrics.declare_gauge("mallbots_orders", "Orders by status", ["status"], metrics.counts_by(Order, "status"))
