from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from eventstore import schedules

        # Not written yet: setup_schedules reports it "not yet available" until notifications.tasks has it.
        schedules.declare(name="sms-retry", func="notifications.tasks.retry_pending")
