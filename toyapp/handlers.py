from eventstore import outbox
from eventstore.registry import handles
from toyapp import contracts, domain


@handles(domain.CounterOpened)
def publish_opened(recorded):
    event = recorded.event
    outbox.publish(contracts.CounterOpened(id=recorded.stream_id, title=event.title, limit=event.limit),
                   recorded=recorded)


@handles(domain.CounterIncremented)
def publish_incremented(recorded):
    outbox.publish(contracts.CounterIncremented(id=recorded.stream_id, by=recorded.event.by), recorded=recorded)
