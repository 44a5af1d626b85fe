"""JsonFirst picks exactly what DRF's full negotiation picks, and leaves everything unusual to it."""

import pytest
from django.http import Http404
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework.exceptions import NotAcceptable, NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from web.negotiation import JsonFirst

RENDERERS = [ORJSONRenderer()]


def negotiate(negotiator, path="/api/x", **headers):
    request = Request(APIRequestFactory().get(path, **headers))
    try:
        renderer, media_type = negotiator.select_renderer(request, RENDERERS)
    except (NotAcceptable, NotFound, Http404) as exc:
        return type(exc).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("headers, path", [
    ({}, "/api/x"),
    ({"HTTP_ACCEPT": "*/*"}, "/api/x"),
    ({"HTTP_ACCEPT": "application/json"}, "/api/x"),
    ({"HTTP_ACCEPT": " application/json "}, "/api/x"),
    ({"HTTP_ACCEPT": "application/json; indent=4"}, "/api/x"),
    ({"HTTP_ACCEPT": "text/html"}, "/api/x"),
    ({"HTTP_ACCEPT": "text/html, application/json;q=0.5"}, "/api/x"),
    ({"HTTP_ACCEPT": "application/*"}, "/api/x"),
    ({}, "/api/x?format=json"),
    ({}, "/api/x?format=xml"),
    ({"HTTP_ACCEPT": "application/json"}, "/api/x?page=2"),
])
def test_json_first_answers_as_drf_does(headers, path):
    assert negotiate(JsonFirst(), path, **headers) == negotiate(DefaultContentNegotiation(), path, **headers)


def test_an_unacceptable_accept_header_is_still_refused():
    assert negotiate(JsonFirst(), HTTP_ACCEPT="text/html") == "NotAcceptable"
