"""Health, schema, docs and metrics."""

import pytest

from eventstore import schedules


def test_liveness(client):
    response = client.get("/liveness")
    assert response.status_code == 200 and response.content == b"."


@pytest.mark.django_db
def test_readiness_reports_database_and_nats(client):
    response = client.get("/readiness")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "nats": "ok"}


@pytest.mark.django_db
def test_readiness_is_503_when_nats_is_unreachable(client, settings):
    settings.NATS_URL = "nats://127.0.0.1:1"
    response = client.get("/readiness")
    assert response.status_code == 503 and response.json()["nats"] == "unavailable"


@pytest.mark.django_db
def test_readiness_takes_the_comma_separated_server_list_of_a_cluster(client, settings):
    settings.NATS_URL = f"nats://127.0.0.1:1,{settings.NATS_URL}"
    response = client.get("/readiness")
    assert response.status_code == 200 and response.json()["nats"] == "ok"


@pytest.mark.django_db
def test_schema_and_swagger_ui_are_served_with_local_assets(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


@pytest.mark.django_db
def test_metrics_expose_kernel_gauges(client):
    body = client.get("/metrics").content.decode()
    assert "mallbots_outbox_unpublished" in body and "mallbots_outbox_oldest_age_seconds" in body


def test_the_apps_declare_the_schedules_of_architecture_section_12():
    assert {p.name: (p.func, p.hourly) for p in schedules.planned()} == {
        "expire-abandoned-baskets": ("baskets.tasks.expire_abandoned", False),
        "depot-dispatch-sweep": ("depot.tasks.dispatch_sweep", False),
        "saga-timeouts": ("ordering.tasks.check_saga_timeouts", False),
        "sms-retry": ("notifications.tasks.retry_pending", False),
        "lag-check": ("eventstore.tasks.check_lag", False),
        "prune-outbox": ("eventstore.tasks.prune_outbox", True),
        "prune-inbox": ("eventstore.tasks.prune_inbox", True),
    }


@pytest.mark.django_db
def test_metrics_expose_lag_per_durable_sagas_by_step_and_the_apps_gauges(client, fresh_stream):
    from decimal import Decimal

    from depot.tests.conftest import given_bot
    from eventstore.metrics import lag_cache
    from eventstore.models import SagaInstance
    from eventstore.tests.processes import run_async
    from ordering.models import Order

    from django.utils import timezone

    given_bot("bot-1", online=False)
    Order.objects.create(id="o-1", customer_id="c", payment_id="p", status="approved", total=Decimal("1.00"),
                         created_at=timezone.now(), updated_at=timezone.now(), version=1)
    SagaInstance.objects.create(saga_name="cosec.CreateOrder", saga_id="o-1", data={}, step=2, status="running")

    async def add_durable():
        import nats
        from django.conf import settings
        from nats.js.api import ConsumerConfig

        client = await nats.connect(settings.NATS_URL)
        try:
            js = client.jetstream()
            await js.add_consumer(fresh_stream, ConsumerConfig(durable_name="metrics-probe",
                                                               filter_subject="mallbots.toy.>"))
            await js.publish("mallbots.toy.events.Counter", b"{}")
        finally:
            await client.close()

    run_async(add_durable)
    lag_cache.clear()
    body = client.get("/metrics").content.decode()
    assert 'mallbots_consumer_pending{durable="metrics-probe"} 1.0' in body
    assert 'mallbots_consumer_ack_pending{durable="metrics-probe"} 0.0' in body
    assert 'mallbots_saga_steps{saga="cosec.CreateOrder",status="running",step="2"} 1.0' in body
    assert 'mallbots_orders{status="approved"} 1.0' in body and 'mallbots_bots{status="offline"} 1.0' in body
    age = float(body.split("\nmallbots_consumer_lag_age_seconds ")[1].split()[0])
    assert 0 <= age < 60


@pytest.mark.django_db
def test_metrics_answer_with_the_last_lag_when_jetstream_does_not(client, settings):
    from eventstore.metrics import lag_cache

    lag_cache.clear()
    settings.NATS_URL = "nats://127.0.0.1:1"
    body = client.get("/metrics").content.decode()
    assert "\nmallbots_consumer_lag_age_seconds -1.0" in body and "mallbots_outbox_unpublished" in body
