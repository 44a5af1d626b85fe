"""Customers REST API (api.md §4.2): success shapes, error texts in check order, access levels."""

import uuid

import pytest

from access.testing import WHO, Api
from customers import services

pytestmark = pytest.mark.django_db

UNKNOWN = str(uuid.uuid4())
MALFORMED = "x" * 65
NOT_FOUND = {"code": 5, "message": "customer not found", "details": []}


def new_customer(name="Ann", sms="555-0100") -> str:
    return services.register_customer(name=name, sms_number=sms)


def test_register_then_get_with_every_field(staff):
    status, body = staff("POST", "/api/customers", {"name": " Ann ", "smsNumber": " 555-0100 "})
    assert status == 200 and list(body) == ["id"] and uuid.UUID(body["id"]).version == 4
    assert staff("GET", f"/api/customers/{body['id']}") == (200, {"customer": {
        "id": body["id"], "name": "Ann", "smsNumber": "555-0100", "enabled": True}})


def test_register_accepts_snake_case(staff):
    customer_id = staff("POST", "/api/customers/", {"name": "Bo", "sms_number": "1"})[1]["id"]
    assert staff("GET", f"/api/customers/{customer_id}")[1]["customer"]["smsNumber"] == "1"


@pytest.mark.parametrize("body,message", [
    ({}, "the customer name cannot be blank"),
    ({"name": " ", "smsNumber": " "}, "the customer name cannot be blank"),
    ({"name": "Ann", "smsNumber": "  "}, "the SMS number cannot be blank"),
    ({"name": "Ann", "smsNumber": 5551234}, "smsNumber must be a string"),
    ("[]", "the request body must be a JSON object"),
])
def test_register_errors_in_order(staff, body, message):
    status, error = staff("POST", "/api/customers", body)
    assert (status, error["code"], error["message"]) == (400, 3, message)


@pytest.mark.parametrize("customer_id", [UNKNOWN, MALFORMED])
def test_unknown_or_malformed_customer_is_404_everywhere(staff, customer_id):
    assert staff("GET", f"/api/customers/{customer_id}") == (404, NOT_FOUND)
    assert staff("PUT", f"/api/customers/{customer_id}/change-sms", {"smsNumber": ""}) == (404, NOT_FOUND)
    assert staff("PUT", f"/api/customers/{customer_id}/enable", {}) == (404, NOT_FOUND)
    assert staff("PUT", f"/api/customers/{customer_id}/disable") == (404, NOT_FOUND)


def test_change_sms_success_no_op_and_blank(staff):
    customer_id = new_customer()
    assert staff("PUT", f"/api/customers/{customer_id}/change-sms", {"smsNumber": " "}) == (
        400, {"code": 3, "message": "the SMS number cannot be blank", "details": []})
    assert staff("PUT", f"/api/customers/{customer_id}/change-sms", {"smsNumber": "555-0100"}) == (200, {})
    assert staff("PUT", f"/api/customers/{customer_id}/change-sms", {"sms_number": "555-0199"}) == (200, {})
    assert staff("GET", f"/api/customers/{customer_id}")[1]["customer"]["smsNumber"] == "555-0199"


def test_disable_enable_and_their_errors(staff):
    customer_id = new_customer()
    assert staff("PUT", f"/api/customers/{customer_id}/enable", {})[1]["message"] == "the customer is already enabled"
    assert staff("PUT", f"/api/customers/{customer_id}/disable", {}) == (200, {})
    assert staff("GET", f"/api/customers/{customer_id}")[1]["customer"]["enabled"] is False
    assert staff("PUT", f"/api/customers/{customer_id}/disable")[1]["message"] == "the customer is already disabled"
    assert staff("PUT", f"/api/customers/{customer_id}/change-sms", {"smsNumber": "1"}) == (200, {})
    assert staff("PUT", f"/api/customers/{customer_id}/enable") == (200, {})
    assert staff("GET", f"/api/customers/{customer_id}")[1]["customer"] == {
        "id": customer_id, "name": "Ann", "smsNumber": "1", "enabled": True}


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/customers"), ("DELETE", "/api/customers/x"), ("POST", "/api/customers/x/change-sms"),
    ("GET", "/api/customers/x/enable"), ("POST", "/api/customers/x/disable"),
])
def test_given_wrong_method_without_token_then_405_first(as_who, method, path):
    assert as_who(None)(method, path) == (405, {"code": 12, "message": "Method Not Allowed", "details": []})


KIOSK = {"kiosk", "store_staff", "store_admin", "depot_staff", "depot_admin", "superuser"}
DEPOT_ADMIN = {"depot_admin", "superuser"}

ENDPOINTS = [
    ("registerCustomer", "POST", "/api/customers", {"name": "N", "smsNumber": "1"}, KIOSK),
    ("getCustomer", "GET", "/api/customers/{enabled}", None, KIOSK),
    ("changeSmsNumber", "PUT", "/api/customers/{enabled}/change-sms", {"smsNumber": "2"}, KIOSK),
    ("enableCustomer", "PUT", "/api/customers/{disabled}/enable", {}, DEPOT_ADMIN),
    ("disableCustomer", "PUT", "/api/customers/{enabled}/disable", {}, DEPOT_ADMIN),
]


@pytest.mark.parametrize("who", (None, "invalid") + WHO)
@pytest.mark.parametrize("operation,method,path,body,allowed", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_access_level_matrix(client, as_who, who, operation, method, path, body, allowed):
    enabled, disabled = new_customer(), new_customer("Dee")
    services.disable_customer(customer_id=disabled)
    caller = Api(client, "kiosk_not-a-real-token") if who == "invalid" else as_who(who)
    status, body_out = caller(method, path.format(enabled=enabled, disabled=disabled), body)
    if who is None:
        assert (status, body_out["message"]) == (401, "authentication required")
    elif who == "invalid":
        assert (status, body_out["message"]) == (401, "invalid token")
    elif who in allowed:
        assert status == 200, body_out
    else:
        assert (status, body_out) == (403, {"code": 7, "message": "permission denied", "details": []})


def test_openapi_schema_names_every_customers_operation(client):
    schema = client.get("/api/schema/?format=json").json()
    operations = {(path, method): op["operationId"] for path, item in schema["paths"].items()
                  for method, op in item.items() if path.startswith("/api/customers")}
    assert operations == {
        ("/api/customers", "post"): "registerCustomer",
        ("/api/customers/{customer_id}", "get"): "getCustomer",
        ("/api/customers/{customer_id}/change-sms", "put"): "changeSmsNumber",
        ("/api/customers/{customer_id}/enable", "put"): "enableCustomer",
        ("/api/customers/{customer_id}/disable", "put"): "disableCustomer",
    }
    customer = schema["components"]["schemas"]["CustomerOut"]
    assert set(customer["required"]) == {"id", "name", "smsNumber", "enabled"}
