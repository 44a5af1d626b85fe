from django.apps import AppConfig


class EventstoreConfig(AppConfig):
    name = "eventstore"
    verbose_name = "Event store (kernel)"

    def ready(self):
        from eventstore import contracts, schedules  # noqa: F401

        schedules.declare(name="lag-check", func="eventstore.tasks.check_lag")
        schedules.declare(name="prune-outbox", func="eventstore.tasks.prune_outbox", hourly=True)
        schedules.declare(name="prune-inbox", func="eventstore.tasks.prune_inbox", hourly=True)
