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

import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.generate], suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, superuser_headers):
    case.call_and_validate(headers=superuser_headers, checks=[not_a_server_error])
