from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self):
        from customers import contracts, domain, handlers  # noqa: F401
        from eventstore import messaging

        messaging.declare(name="customers-commands", module="customers", subject=contracts.COMMANDS_SUBJECT,
                          handlers={"customersapi.AuthorizeCustomer": handlers.on_authorize_customer})
