"""The relay's and consumers' own histograms (ADR 21): observed as they work, served on METRICS_PORT."""

import urllib.request

import pytest

from eventstore import messaging, process_metrics, processing
from eventstore.tests import processes


def sample(name: str, labels: dict[str, str]) -> float:
    return process_metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db(transaction=True)
def test_a_handled_message_is_observed_by_durable_name_and_outcome_and_served_on_the_metrics_port():
    durable = messaging.get_durable("toy-counters")
    labels = {"durable": "toy-counters", "name": "-", "outcome": "dead-lettered"}
    before = sample("mallbots_handler_seconds_count", labels)
    assert processing.process(durable, b"not json", delivery=1, message_id="m-1").outcome == "dead-lettered"
    assert sample("mallbots_handler_seconds_count", labels) == before + 1

    process_metrics.relay_batch(3, 0.004, failed=False)
    port = processes.free_port(19400)
    process_metrics.serve(port)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'mallbots_handler_seconds_count{durable="toy-counters",name="-",outcome="dead-lettered"}' in body
    assert "mallbots_relay_publish_seconds_bucket" in body and "mallbots_relay_published_total" in body
    process_metrics.serve(port)
