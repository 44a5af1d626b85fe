from django.apps import AppConfig

from access.principals import DEPOT_ADMIN, DEPOT_STAFF


class BasketsConfig(AppConfig):
    name = "baskets"
    staff_roles = (DEPOT_STAFF, DEPOT_ADMIN)  # their groups get this app's model permissions (setup_roles)

    def ready(self):
        from baskets import contracts, domain, handlers, models  # noqa: F401
        from eventstore import messaging, projections, schedules
        from stores.contracts import PRODUCT_SUBJECT, STORE_SUBJECT

        projections.declare(app=self.label, tables=[models.Basket, models.BasketItem])
        projections.declare(app=self.label, tables=[models.StoreCache, models.ProductCache],
                            durables=["baskets-stores", "baskets-products"], sources=["stores.Store", "stores.Product"])

        messaging.declare(name="baskets-stores", module="baskets", subject=STORE_SUBJECT, handlers={
            "storesapi.StoreCreated": handlers.on_store_created,
            "storesapi.StoreParticipationToggled": handlers.on_store_participation_toggled,
            "storesapi.StoreRebranded": handlers.on_store_rebranded,
        })
        messaging.declare(name="baskets-products", module="baskets", subject=PRODUCT_SUBJECT, handlers={
            "storesapi.ProductAdded": handlers.on_product_added,
            "storesapi.ProductRebranded": handlers.on_product_rebranded,
            "storesapi.ProductPriceIncreased": handlers.on_product_price_changed,
            "storesapi.ProductPriceDecreased": handlers.on_product_price_changed,
            "storesapi.ProductRemoved": handlers.on_product_removed,
        })
        schedules.declare(name="expire-abandoned-baskets", func="baskets.tasks.expire_abandoned")
