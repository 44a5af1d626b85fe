from django.apps import AppConfig

from access.principals import DEPOT_ADMIN, DEPOT_STAFF


class DepotConfig(AppConfig):
    name = "depot"
    verbose_name = "Depot"
    staff_roles = (DEPOT_STAFF, DEPOT_ADMIN)  # their groups get this app's model permissions (setup_roles)

    def ready(self):
        from depot import contracts, domain, handlers, models  # noqa: F401
        from eventstore import messaging, projections, schedules
        from ordering import contracts as ordering_contracts
        from stores import contracts as stores_contracts

        messaging.declare(name="depot-commands", module="depot", subject=contracts.COMMANDS_SUBJECT, handlers={
            "depotapi.CreateShoppingListCommand": handlers.on_create_shopping_list,
            "depotapi.InitiateShoppingCommand": handlers.on_initiate_shopping,
            "depotapi.CancelShoppingListCommand": handlers.on_cancel_shopping_list,
        })
        messaging.declare(name="depot-orders", module="depot", subject=ordering_contracts.ORDER_EVENTS, handlers={
            "ordersapi.OrderRejected": handlers.on_order_closed,
            "ordersapi.OrderCanceled": handlers.on_order_closed,
        })
        messaging.declare(name="depot-stores", module="depot", subject=stores_contracts.STORE_SUBJECT, handlers={
            "storesapi.StoreCreated": handlers.on_store_created,
            "storesapi.StoreParticipationToggled": handlers.on_store_participation_toggled,
            "storesapi.StoreRebranded": handlers.on_store_rebranded,
        })
        messaging.declare(name="depot-products", module="depot", subject=stores_contracts.PRODUCT_SUBJECT, handlers={
            "storesapi.ProductAdded": handlers.on_product_added,
            "storesapi.ProductRebranded": handlers.on_product_rebranded,
            "storesapi.ProductPriceIncreased": handlers.on_product_repriced,
            "storesapi.ProductPriceDecreased": handlers.on_product_repriced,
            "storesapi.ProductRemoved": handlers.on_product_removed,
        })
        schedules.declare(name="depot-dispatch-sweep", func="depot.tasks.dispatch_sweep")
        projections.declare(app=self.label, tables=[models.ShoppingList, models.Bot])
        projections.declare(app=self.label, tables=[models.StoreCache, models.ProductCache],
                            durables=["depot-stores", "depot-products"], sources=["stores.Store", "stores.Product"])

        from eventstore import audit
        from depot import audits

        audit.declare("bots-and-lists-agree", audits.bots_and_lists_agree)

        from depot.models import Bot
        from eventstore import metrics

        metrics.declare_gauge("mallbots_bots", "Bots by status", ["status"], metrics.counts_by(Bot, "status"))
