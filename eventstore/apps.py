from django.apps import AppConfig


class EventstoreConfig(AppConfig):
    name = "eventstore"
    verbose_name = "Event store (kernel)"

    def ready(self):
        from eventstore import contracts  # noqa: F401
