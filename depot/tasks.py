"""Depot jobs run by django-q2 schedules (declared in ``depot.apps``)."""

from depot import services
from eventstore import context


def dispatch_sweep() -> int:
    """``depot-dispatch-sweep`` (every minute): assign any available list to any idle bot."""
    with context.use(context.new_context()):
        return services.dispatch_sweep()
