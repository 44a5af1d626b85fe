"""Schemathesis against the live OpenAPI schema (quality.md §3, issue 13): generated requests to every
operation, as a superuser, must never get a 5xx.

The schema is the one the site serves at ``/api/schema/``, read through WSGI when the module is collected;
each operation is one test. A short run for the suite (``FUZZ_EXAMPLES`` per operation, a few hundred in
all, derandomized so a run is repeatable); the schema's bounds (maximum lengths and items, the money and
32-bit ranges, enums) steer the generated values to the edges. A longer run:
``FUZZ_EXAMPLES=40 .venv/bin/python -m pytest mallbots_site/tests/test_fuzz_schema.py``.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def bearer(db) -> dict[str, str]:
    """A superuser's token (passes every access level). Like Django's test client, the WSGI handler must
    not close the test's database connection at the end of each request."""
    from access.testing import token_for

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Bearer {token_for('superuser')}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.generate], suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, bearer):
    case.call_and_validate(headers=bearer, checks=[not_a_server_error])
