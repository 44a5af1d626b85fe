from django.apps import AppConfig

from access.principals import STORE_ADMIN, STORE_STAFF


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = "Stores"
    staff_roles = (STORE_STAFF, STORE_ADMIN)  # their groups get this app's model permissions (setup_roles)

    def ready(self):
        from eventstore import projections
        from stores import contracts, domain, handlers, models  # noqa: F401

        projections.declare(app=self.label, tables=[models.Store, models.Product])
