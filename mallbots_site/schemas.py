"""The AsyncAPI document of the messages, next to the OpenAPI schema of the REST API (``/api/asyncapi/``)."""

from __future__ import annotations

import functools
import json

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from eventstore import asyncapi as generator


@functools.lru_cache(maxsize=1)
def _yaml() -> str:
    return generator.render()


@functools.lru_cache(maxsize=1)
def _json() -> str:
    return json.dumps(generator.document(), indent=2)


@require_GET
def asyncapi(request):
    """AsyncAPI 3.0, YAML (``?format=json``: JSON); public like ``/api/schema/``. Built once per process from
    the registries, which do not change after start-up."""
    if request.GET.get("format") == "json":
        return HttpResponse(_json(), content_type="application/json")
    return HttpResponse(_yaml(), content_type="application/yaml; charset=utf-8")
