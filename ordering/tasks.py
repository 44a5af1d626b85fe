"""Scheduled ordering work (django-q2)."""

from eventstore.sagas import check_timeouts


def check_saga_timeouts() -> int:
    """Re-send create-order saga commands that got no reply in time (events.md §6.2 rule 9)."""
    return check_timeouts()
