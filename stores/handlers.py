"""In-transaction handlers of the stores domain events: read-model projections and outbox translation.

Each domain event has one projection (``project_*``, the only writers of ``stores.models``) and one
publisher (``publish_*``, writing the integration event of events.md §9 to the outbox). Both run in
the transaction that saved the event.
"""

from __future__ import annotations

from eventstore import outbox
from eventstore.models import StoredEvent
from eventstore.registry import handles, projection
from eventstore.repository import RecordedEvent
from stores import contracts, domain, models


def _position(recorded: RecordedEvent) -> int:
    return StoredEvent.objects.values_list("global_position", flat=True).get(event_id=recorded.event_id)


@projection(domain.StoreCreated)
def project_store_created(recorded: RecordedEvent) -> None:
    event = recorded.event
    models.Store.objects.create(id=recorded.stream_id, name=event.store_name, location=event.location,
                                participating=event.participating, version=recorded.version,
                                created_position=_position(recorded))


@projection(domain.StoreParticipationEnabled, domain.StoreParticipationDisabled)
def project_store_participation(recorded: RecordedEvent) -> None:
    participating = isinstance(recorded.event, domain.StoreParticipationEnabled)
    models.Store.objects.filter(id=recorded.stream_id).update(participating=participating, version=recorded.version)


@projection(domain.StoreRebranded)
def project_store_rebranded(recorded: RecordedEvent) -> None:
    models.Store.objects.filter(id=recorded.stream_id).update(name=recorded.event.store_name,
                                                              version=recorded.version)


@projection(domain.ProductAdded)
def project_product_added(recorded: RecordedEvent) -> None:
    event = recorded.event
    models.Product.objects.create(id=recorded.stream_id, store_id=event.store_id, name=event.product_name,
                                  description=event.description, sku=event.sku, price=event.price,
                                  removed=False, version=recorded.version, created_position=_position(recorded))


@projection(domain.ProductRebranded)
def project_product_rebranded(recorded: RecordedEvent) -> None:
    event = recorded.event
    models.Product.objects.filter(id=recorded.stream_id).update(name=event.product_name,
                                                                description=event.description,
                                                                version=recorded.version)


@projection(domain.ProductPriceIncreased, domain.ProductPriceDecreased)
def project_product_price(recorded: RecordedEvent) -> None:
    models.Product.objects.filter(id=recorded.stream_id).update(price=recorded.event.price, version=recorded.version)


@projection(domain.ProductRemoved)
def project_product_removed(recorded: RecordedEvent) -> None:
    models.Product.objects.filter(id=recorded.stream_id).update(removed=True, version=recorded.version)


@handles(domain.StoreCreated)
def publish_store_created(recorded: RecordedEvent) -> None:
    event = recorded.event
    outbox.publish(contracts.StoreCreated(id=recorded.stream_id, name=event.store_name, location=event.location),
                   recorded=recorded)


@handles(domain.StoreParticipationEnabled, domain.StoreParticipationDisabled)
def publish_store_participation_toggled(recorded: RecordedEvent) -> None:
    participating = isinstance(recorded.event, domain.StoreParticipationEnabled)
    outbox.publish(contracts.StoreParticipationToggled(id=recorded.stream_id, participating=participating),
                   recorded=recorded)


@handles(domain.StoreRebranded)
def publish_store_rebranded(recorded: RecordedEvent) -> None:
    outbox.publish(contracts.StoreRebranded(id=recorded.stream_id, name=recorded.event.store_name),
                   recorded=recorded)


@handles(domain.ProductAdded)
def publish_product_added(recorded: RecordedEvent) -> None:
    event = recorded.event
    outbox.publish(contracts.ProductAdded(id=recorded.stream_id, store_id=event.store_id, name=event.product_name,
                                          description=event.description, sku=event.sku, price=event.price),
                   recorded=recorded)


@handles(domain.ProductRebranded)
def publish_product_rebranded(recorded: RecordedEvent) -> None:
    event = recorded.event
    outbox.publish(contracts.ProductRebranded(id=recorded.stream_id, name=event.product_name,
                                              description=event.description), recorded=recorded)


@handles(domain.ProductPriceIncreased)
def publish_product_price_increased(recorded: RecordedEvent) -> None:
    event = recorded.event
    outbox.publish(contracts.ProductPriceIncreased(id=recorded.stream_id, delta=event.delta, price=event.price),
                   recorded=recorded)


@handles(domain.ProductPriceDecreased)
def publish_product_price_decreased(recorded: RecordedEvent) -> None:
    event = recorded.event
    outbox.publish(contracts.ProductPriceDecreased(id=recorded.stream_id, delta=event.delta, price=event.price),
                   recorded=recorded)


@handles(domain.ProductRemoved)
def publish_product_removed(recorded: RecordedEvent) -> None:
    outbox.publish(contracts.ProductRemoved(id=recorded.stream_id), recorded=recorded)
