"""Query facade of notifications for other modules and the site."""

from __future__ import annotations

from django.db.models import Count

from notifications import domain
from notifications.models import Notification


def counts_by_status() -> dict[tuple[str], int]:
    """Notifications per status, every status present (the ``mallbots_notifications`` gauge)."""
    counts = {(status,): 0 for status in domain.STATUSES}
    for row in Notification.objects.values("status").annotate(n=Count("id")):
        counts[(row["status"],)] = row["n"]
    return counts
