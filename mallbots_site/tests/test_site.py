"""Health, schema, docs and metrics."""

import pytest


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
