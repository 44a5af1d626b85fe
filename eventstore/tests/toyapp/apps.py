from django.apps import AppConfig


class ToyAppConfig(AppConfig):
    name = "eventstore.tests.toyapp"
    label = "toyapp"

    def ready(self):
        from eventstore.tests.toyapp import contracts, domain, handlers  # noqa: F401
