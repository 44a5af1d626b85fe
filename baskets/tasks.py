"""Scheduled baskets work (django-q2, architecture.md §12)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings

from baskets import models, services
from eventstore import codec, context
from eventstore.errors import ConcurrencyError, NotFound

logger = logging.getLogger("mallbots.baskets")


def expire_abandoned(now: dt.datetime | None = None) -> int:
    """Cancel open baskets without activity for ``BASKET_ABANDON_AFTER_MINUTES`` (reason ``abandoned``).

    Candidates come from the read model; each basket is expired by ``services.expire_basket`` in its own
    transaction, which re-checks the idle time on the aggregate. A basket changed meanwhile is skipped
    (the next run looks again). Returns how many baskets were cancelled.
    """
    now = now or codec.utcnow()
    cutoff = now - dt.timedelta(minutes=settings.BASKET_ABANDON_AFTER_MINUTES)
    candidates = list(models.Basket.objects.filter(status="open", updated_at__lte=cutoff)
                      .order_by("updated_at").values_list("id", flat=True))
    expired = 0
    with context.use(context.new_context(actor="system")):
        for basket_id in candidates:
            try:
                expired += services.expire_basket(basket_id=basket_id, now=now)
            except (ConcurrencyError, NotFound) as exc:
                logger.info("basket %s not expired: %s", basket_id, exc)
    if expired:
        logger.info("expired %d abandoned basket(s)", expired)
    return expired
