"""Test set-up shared by every module: real PostgreSQL (pytest-django) and real NATS."""

import pytest
from django.conf import settings


@pytest.fixture
def nats_url() -> str:
    return settings.NATS_URL


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


from access.testing import as_who, staff  # noqa: E402,F401  (API test fixtures)
from eventstore.tests.conftest import dedicated_nats, fresh_stream  # noqa: E402,F401  (shared process fixtures)
