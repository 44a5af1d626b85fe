"""Notifications jobs run by django-q2 schedules (declared in ``notifications.apps``)."""

from eventstore import context
from notifications import services


def retry_pending() -> dict[str, int]:
    """``sms-retry`` (every minute): give up on abandoned sends, send the pending notifications (ADR 17)."""
    with context.use(context.new_context()):
        return services.retry_pending()
