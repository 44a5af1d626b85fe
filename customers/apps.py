from django.apps import AppConfig

from access.principals import DEPOT_ADMIN, DEPOT_STAFF


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"
    staff_roles = (DEPOT_STAFF, DEPOT_ADMIN)  # their groups get this app's model permissions (setup_roles)

    def ready(self):
        from customers import contracts, domain, handlers, models  # noqa: F401
        from eventstore import messaging, projections

        projections.declare(app=self.label, tables=[models.Customer])

        messaging.declare(name="customers-commands", module="customers", subject=contracts.COMMANDS_SUBJECT,
                          handlers={"customersapi.AuthorizeCustomer": handlers.on_authorize_customer})
