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
