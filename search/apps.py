from django.apps import AppConfig

from access.principals import DEPOT_ADMIN, DEPOT_STAFF


class SearchConfig(AppConfig):
    name = "search"
    staff_roles = (DEPOT_STAFF, DEPOT_ADMIN)  # their groups get this app's model permissions (setup_roles)

    def ready(self):
        from customers.contracts import CUSTOMER_SUBJECT
        from eventstore import messaging, projections
        from ordering.contracts import ORDER_EVENTS
        from search import handlers, models
        from stores.contracts import PRODUCT_SUBJECT, STORE_SUBJECT

        order_events = ("OrderCreated", "OrderApproved", "OrderRejected", "OrderStarted", "OrderReadied",
                        "OrderCanceled", "OrderCompleted")
        messaging.declare(name="search-orders", module="search", subject=ORDER_EVENTS, handlers={
            f"ordersapi.{name}": handlers.on_order_created if name == "OrderCreated" else handlers.on_order_changed
            for name in order_events})
        messaging.declare(name="search-customers", module="search", subject=CUSTOMER_SUBJECT, handlers={
            "customersapi.CustomerRegistered": handlers.on_customer_registered,
            "customersapi.CustomerSmsChanged": handlers.on_customer_changed,
            "customersapi.CustomerEnabled": handlers.on_customer_changed,
            "customersapi.CustomerDisabled": handlers.on_customer_changed,
        })
        messaging.declare(name="search-stores", module="search", subject=STORE_SUBJECT, handlers={
            "storesapi.StoreCreated": handlers.on_store_created,
            "storesapi.StoreParticipationToggled": handlers.on_store_participation_toggled,
            "storesapi.StoreRebranded": handlers.on_store_rebranded,
        })
        messaging.declare(name="search-products", module="search", subject=PRODUCT_SUBJECT, handlers={
            "storesapi.ProductAdded": handlers.on_product_added,
            "storesapi.ProductRebranded": handlers.on_product_rebranded,
            "storesapi.ProductPriceIncreased": handlers.on_product_repriced,
            "storesapi.ProductPriceDecreased": handlers.on_product_repriced,
            "storesapi.ProductRemoved": handlers.on_product_removed,
        })
        projections.declare(
            app=self.label,
            tables=[models.Order, models.CustomerCache, models.StoreCache, models.ProductCache],
            durables=["search-customers", "search-stores", "search-products", "search-orders"],
            sources=["customers.Customer", "stores.Store", "stores.Product", "ordering.Order"])
