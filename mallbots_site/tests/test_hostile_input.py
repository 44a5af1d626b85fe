"""Hostile input against every endpoint of the live OpenAPI schema (issue 13, ADR 20).

The operations come from the schema the site serves, so an endpoint added later is covered without
touching this file. Each class of abuse goes to every field, path parameter and query parameter where it
applies, and to every request body as a whole: huge number literals and numeric strings, texts past
their maximum length, NUL characters and unpaired surrogates, lists past their maximum, bodies nested a
thousand deep, larger than the limit, or not UTF-8. Every answer must be a 4xx with the error body of
api.md §1.3 (the exact text where the class decides it), no line may be logged at ERROR, and no row may
be written anywhere.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.apps import apps
from drf_spectacular.generators import SchemaGenerator

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
COMPONENTS = SCHEMA["components"]["schemas"]
METHODS = ("get", "post", "put", "delete")
CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 406: 3, 409: 10, 413: 3}
LITERALS: list[str] = []  # raw JSON literals, put in place of their "@@literal-N@@" placeholders


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    body_schema: dict | None
    query: tuple[str, ...]

    def url(self, **values: str) -> str:
        url = self.path
        for name in self.path_params:
            url = url.replace("{" + name + "}", quote(values.get(name, "unknown-id"), safe=""))
        return url

    @property
    def path_params(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]


def operations() -> list[Operation]:
    found = []
    for path, item in SCHEMA["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None or not path.startswith("/api/") or path.startswith("/api/schema"):
                continue
            content = (op.get("requestBody") or {}).get("content") or {}
            body = resolve(next(iter(content.values()))["schema"]) if content else None
            query = tuple(p["name"] for p in op.get("parameters", []) if p["in"] == "query")
            found.append(Operation(op["operationId"], method.upper(), path, body, query))
    return found


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def leaves(schema: dict, path: tuple = ()):
    """(path, schema) of every field of a request body; a path step is a key or 0 (the first list item)."""
    schema = resolve(schema)
    if schema.get("type") == "object" or "properties" in schema:
        for name, field in schema.get("properties", {}).items():
            yield from leaves(field, (*path, name))
        return
    yield path, schema
    if schema.get("type") == "array" and "properties" in resolve(schema["items"]):
        yield from leaves(schema["items"], (*path, 0))


def body_with(path: tuple, value) -> object:
    for step in reversed(path):
        value = [value] if step == 0 else {step: value}
    return value


def field_name(path: tuple) -> str:
    text = ""
    for step in path:
        text += "[0]" if step == 0 else (f".{step}" if text else step)
    return text


def encoded(body) -> str:
    text = json.dumps(body)
    for index, literal in enumerate(LITERALS):
        text = text.replace(f'"@@literal-{index}@@"', literal)
    return text


def raw(literal: str) -> str:
    """A value sent as the JSON text ``literal`` (numbers no Python float holds, escapes json.dumps refuses)."""
    LITERALS.append(literal)
    return f"@@literal-{len(LITERALS) - 1}@@"


NUMBERS = [raw("1e1000000"), raw("-1e1000000"), raw("1e100000000000"), raw("1e1000000000000000000"),
           raw("9" * 5000), "1e300000", "1e100000000000"]


def field_cases(schema: dict) -> list[tuple[object, str | None]]:
    """(hostile value, the message suffix it must get or None when only a 4xx is certain)."""
    kind = schema.get("type")
    if kind in ("integer", "number"):
        return [(value, "is out of range") for value in NUMBERS]
    if kind == "string" and schema.get("format") == "date-time":
        return [("2" * 5000 + "T", "must be an RFC 3339 timestamp"), ("a\x00T", "must be an RFC 3339 timestamp")]
    if kind == "string":
        limit = schema.get("maxLength")
        cases = [("a\x00b", "contains an invalid character" if limit else None),
                 (raw('"a\\ud800b"'), "contains an invalid character" if limit else None),
                 (raw('"\\udfff"'), "contains an invalid character" if limit else None),
                 ("x" * (limit + 1 if limit else 65), "is too long" if limit else None)]
        if not limit:
            cases.append(("x" * 500_000, None))
        return cases
    if kind == "array":
        limit = schema["maxItems"]
        item = {} if "properties" in resolve(schema["items"]) else "s"
        return [([item] * (limit + 1), "has too many items"),
                ([raw("1e1000000")], None), (["a\x00b"] if item == "s" else [[]], None)]
    return []


DEEP = '{"a": ' + "[" * 1000 + "]" * 1000 + "}"
WHOLE_BODIES = [
    (DEEP, 400, "the request body is nested too deeply"),
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", 400, "the request body is nested too deeply"),
    ('{"a": "' + "x" * (3 * 1024 * 1024) + '"}', 413, "the request body is too large"),
    (b'{"a": "\xff\xfe"}', 400, "the request body is not valid JSON"),
]

OPERATIONS = operations()
# Queries that take a body: their ids are filters, not lookups (api.md §4.7: a malformed id matches no order,
# an undecodable cursor is "the next cursor is invalid"); search/tests/test_api.py sends them the same abuse.
QUERIES_WITH_A_BODY = {"searchOrders"}
WRITES = [op for op in OPERATIONS if op.body_schema is not None and op.operation_id not in QUERIES_WITH_A_BODY]


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()
            if model._meta.managed and model._meta.app_label not in ("sessions", "django_q")}


class Caller:
    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def __call__(self, method: str, url: str, body: str | bytes | None = None, **extra):
        return self.client.generic(method, url, body or "", content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {self.token}", **extra)


@pytest.fixture
def caller(client, db):
    from access.testing import token_for

    return Caller(client, token_for("superuser"))


@pytest.fixture
def no_error_lines(caplog):
    caplog.set_level(logging.INFO)
    yield
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def assert_refused(response, message: str | None = None, status: int | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if status is not None:
        assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == CODES[response.status_code]
    assert isinstance(body["details"], list)
    if message is not None:
        assert body["message"] == message, body


def test_the_schema_lists_the_write_endpoints():
    assert {op.operation_id for op in WRITES} >= {"createStore", "addProduct", "registerCustomer", "addItem",
                                                  "createOrder", "authorizePayment", "createShoppingList",
                                                  "registerBot", "pickItem"}


@pytest.mark.parametrize("op", WRITES, ids=[op.operation_id for op in WRITES])
def test_every_field_of_every_write_endpoint_refuses_each_hostile_class(caller, no_error_lines, op):
    before = table_counts()
    fields = list(leaves(op.body_schema))
    for path, schema in fields:
        for value, suffix in field_cases(schema):
            response = caller(op.method, op.url(), encoded(body_with(path, value)))
            assert_refused(response, f"{field_name(path)} {suffix}" if suffix else None)
    for body, status, message in WHOLE_BODIES:
        assert_refused(caller(op.method, op.url(), body), message, status)
    assert table_counts() == before


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.path_params],
                         ids=[op.operation_id for op in OPERATIONS if op.path_params])
def test_every_path_parameter_refuses_malformed_ids(caller, no_error_lines, op):
    before = table_counts()
    for bad in ("a\x00b", "x" * 65, "x" * 5000, "a b", "\u00e9"):
        response = caller(op.method, op.url(**{name: bad for name in op.path_params}))
        assert_refused(response, status=404)
    assert table_counts() == before


QUERIES = [op for op in OPERATIONS if op.query]


@pytest.mark.parametrize("op", QUERIES, ids=[op.operation_id for op in QUERIES])
def test_every_query_parameter_refuses_a_nul(caller, no_error_lines, op):
    for name in op.query:
        response = caller(op.method, f"{op.url()}?{name}=a%00b")
        assert_refused(response, f"{name} contains an invalid character", 400)


def test_a_query_parameter_with_a_nul_failed_as_a_database_outage_before():
    """The case the issue reported: ``GET /api/depot/shopping?orderId=%00`` answered 503 (DataError)."""
    assert any(op.operation_id == "listShoppingLists" and "orderId" in op.query for op in QUERIES)
