from django.apps import AppConfig

from access.principals import DEPOT_ADMIN, DEPOT_STAFF


class NotificationsConfig(AppConfig):
    name = "notifications"
    staff_roles = (DEPOT_STAFF, DEPOT_ADMIN)  # their groups get this app's model permissions (setup_roles)

    def ready(self):
        from eventstore import schedules

        # Not written yet: setup_schedules reports it "not yet available" until notifications.tasks has it.
        schedules.declare(name="sms-retry", func="notifications.tasks.retry_pending")
