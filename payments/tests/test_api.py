"""Payments REST API (api.md §4.5): shapes, error texts in check order, access levels."""

import json
import uuid
from decimal import Decimal

import pytest

from payments import services
from payments.tests.conftest import CALLERS

pytestmark = pytest.mark.django_db
D = Decimal

KIOSK = {"kiosk", "store_staff", "store_admin", "depot_staff", "depot_admin", "superuser"}
DEPOT_STAFF = {"depot_staff", "depot_admin", "superuser"}


def call(client, method, path, headers, body=None):
    return client.generic(method, path, json.dumps(body) if body is not None else "",
                          content_type="application/json", **headers)


def error(response):
    return response.status_code, response.json()["message"]


def invoice_for(order_id="o1", amount="30.00", confirm=True) -> str:
    payment_id = services.authorize_payment(customer_id="c1", amount=D("50"))
    if confirm:
        services.confirm_payment(payment_id=payment_id, order_id=order_id, customer_id="c1", amount=D("40"))
    services.create_invoice(order_id=order_id, payment_id=payment_id, amount=D(amount))
    return payment_id


# ---------------------------------------------------------------- authorizePayment


def test_authorize_payment_returns_new_uuid_and_payment_is_readable(client, headers):
    body = {"customerId": "c1", "amount": 21.689999999999998}
    response = call(client, "POST", "/api/payments", headers["kiosk"], body)
    assert response.status_code == 200
    payment_id = response.json()["id"]
    assert str(uuid.UUID(payment_id)) == payment_id and set(response.json()) == {"id"}
    got = call(client, "GET", f"/api/payments/{payment_id}", headers["kiosk"])
    assert got.status_code == 200
    assert got.json() == {"payment": {"id": payment_id, "customerId": "c1", "amount": 21.69, "status": "authorized",
                                      "orderId": ""}}


def test_authorize_payment_accepts_snake_case_and_numeric_strings(client, headers):
    response = call(client, "POST", "/api/payments/", headers["kiosk"], {"customer_id": "c2", "amount": "10.5"})
    assert response.status_code == 200
    got = call(client, "GET", f"/api/payments/{response.json()['id']}", headers["kiosk"]).json()["payment"]
    assert (got["customerId"], got["amount"]) == ("c2", 10.5)


@pytest.mark.parametrize("body,status,message", [
    ({}, 400, "the customer id cannot be blank"),
    ({"customerId": "  ", "amount": 0}, 400, "the customer id cannot be blank"),
    ({"customerId": "c1"}, 400, "the payment amount must be greater than zero"),
    ({"customerId": "c1", "amount": -1}, 400, "the payment amount must be greater than zero"),
    ({"customerId": "c1", "amount": 0.001}, 400, "the payment amount must be greater than zero"),
    ({"customerId": "c1", "amount": "ten"}, 400, "amount must be a number"),
    ({"customerId": 7, "amount": 5}, 400, "customerId must be a string"),
])
def test_authorize_payment_errors_in_check_order(client, headers, body, status, message):
    assert error(call(client, "POST", "/api/payments", headers["kiosk"], body)) == (status, message)


# ---------------------------------------------------------------- getPayment / getInvoice


def test_get_payment_shows_order_after_confirmation(client, headers):
    payment_id = invoice_for()
    got = call(client, "GET", f"/api/payments/{payment_id}", headers["depot_staff"]).json()
    assert got == {"payment": {"id": payment_id, "customerId": "c1", "amount": 50, "status": "confirmed",
                               "orderId": "o1"}}


@pytest.mark.parametrize("payment_id", [str(uuid.uuid4()), "x" * 65, "bad$id"])
def test_get_payment_unknown_or_malformed_is_404(client, headers, payment_id):
    assert error(call(client, "GET", f"/api/payments/{payment_id}", headers["kiosk"])) == (404, "payment not found")


def test_get_invoice_has_every_field(client, headers):
    payment_id = invoice_for(amount="30.5")
    got = call(client, "GET", "/api/payments/invoices/o1", headers["depot_staff"])
    assert got.status_code == 200
    assert got.json() == {"invoice": {"id": "o1", "orderId": "o1", "paymentId": payment_id, "amount": 30.5,
                                      "status": "pending", "refundRequired": False}}


def test_get_invoice_route_is_not_captured_by_get_payment(client, headers):
    assert error(call(client, "GET", "/api/payments/invoices/o1", headers["depot_staff"])) == (404,
                                                                                              "invoice not found")
    assert error(call(client, "GET", "/api/payments/invoices/bad$id", headers["depot_staff"])) == (
        404, "invoice not found")


# ---------------------------------------------------------------- payInvoice


def test_pay_invoice_captures_the_payment_and_marks_the_invoice_paid(client, headers):
    payment_id = invoice_for()
    response = call(client, "PUT", "/api/payments/invoices/o1/pay", headers["depot_staff"], {})
    assert (response.status_code, response.json()) == (200, {})
    invoice = call(client, "GET", "/api/payments/invoices/o1", headers["depot_staff"]).json()["invoice"]
    assert invoice["status"] == "paid"
    payment = call(client, "GET", f"/api/payments/{payment_id}", headers["kiosk"]).json()["payment"]
    assert payment["status"] == "captured"


def test_pay_invoice_without_body_is_allowed(client, headers):
    invoice_for()
    response = client.put("/api/payments/invoices/o1/pay", **headers["depot_admin"])
    assert (response.status_code, response.json()) == (200, {})


@pytest.mark.parametrize("setup,status,message", [
    ("missing", 404, "invoice not found"),
    ("paid", 400, "invoice cannot be paid for"),
    ("unconfirmed", 400, "the payment cannot be captured"),
])
def test_pay_invoice_errors_in_check_order(client, headers, setup, status, message):
    if setup != "missing":
        invoice_for(confirm=setup != "unconfirmed")
    if setup == "paid":
        services.pay_invoice(invoice_id="o1")
    assert error(call(client, "PUT", "/api/payments/invoices/o1/pay", headers["depot_staff"], {})) == (status,
                                                                                                      message)


def test_pay_invoice_with_non_object_body_is_400(client, headers):
    invoice_for()
    assert error(call(client, "PUT", "/api/payments/invoices/o1/pay", headers["depot_staff"], [1])) == (
        400, "the request body must be a JSON object")


@pytest.mark.parametrize("method,path", [
    ("PUT", "/api/payments"), ("DELETE", "/api/payments/p1"), ("POST", "/api/payments/invoices/o1"),
    ("GET", "/api/payments/invoices/o1/pay"),
])
def test_wrong_method_is_405_even_without_credentials(client, headers, method, path):
    assert error(call(client, method, path, headers["none"])) == (405, "Method Not Allowed")


# ---------------------------------------------------------------- access levels

ENDPOINTS = [
    ("POST", "/api/payments", {"customerId": "c1", "amount": 5}, KIOSK),
    ("GET", "/api/payments/{payment}", None, KIOSK),
    ("GET", "/api/payments/invoices/o1", None, DEPOT_STAFF),
    ("PUT", "/api/payments/invoices/o1/pay", {}, DEPOT_STAFF),
]


@pytest.mark.parametrize("method,path,body,allowed", ENDPOINTS)
@pytest.mark.parametrize("who", CALLERS)
def test_access_levels(client, headers, who, method, path, body, allowed):
    payment_id = invoice_for()
    response = call(client, method, path.format(payment=payment_id), headers[who], body)
    if who == "none":
        assert error(response) == (401, "authentication required")
        assert response["WWW-Authenticate"] == "Bearer"
    elif who == "invalid":
        assert error(response) == (401, "invalid token")
    elif who in allowed:
        assert response.status_code == 200, response.json()
    else:
        assert error(response) == (403, "permission denied")
