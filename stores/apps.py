from django.apps import AppConfig

from access.principals import STORE_ADMIN, STORE_STAFF


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = "Stores"
    staff_roles = (STORE_STAFF, STORE_ADMIN)  # their groups get this app's model permissions (setup_roles)

    def ready(self):
        from stores import contracts, domain, handlers  # noqa: F401
