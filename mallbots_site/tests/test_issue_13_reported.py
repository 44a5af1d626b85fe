"""Issue 13, findings 1–3 as reported, against the real endpoints: each request once froze a worker,
answered 500 or 503 (logged as a database outage), or was accepted and blocked the outbox. Now each is a
4xx with the error body, before anything is written."""

import json
import logging

import pytest

from eventstore.models import OutboxMessage, StoredEvent
from eventstore.schema import MONEY_MAX
from ordering import domain as ordering_domain
from stores import services as stores

pytestmark = pytest.mark.django_db

TOO_LONG_ID = "c" * 65


@pytest.fixture
def world(staff):
    customer = staff("POST", "/api/customers", {"name": "Ann", "smsNumber": "555"})[1]["id"]
    basket = staff("POST", "/api/baskets", {"customerId": customer})[1]["id"]
    store = stores.create_store(name="Jewels", location="L1")
    product = stores.add_product(store_id=store, name="Crown", description="", sku="", price=MONEY_MAX)
    return {"customer": customer, "basket": basket, "store": store, "product": product}


def order(world, **fields):
    return json.dumps({"customerId": world["customer"], "paymentId": "pay-1", "items": [
        {"storeId": world["store"], "productId": world["product"], "price": 1, "quantity": 1}], **fields})


REPORTED = [
    ("PUT", "/api/baskets/{basket}/addItem", lambda w: '{"productId": "p", "quantity": "1e300000"}',
     400, "quantity is out of range"),
    ("PUT", "/api/baskets/{basket}/addItem", lambda w: '{"productId": "p", "quantity": 1e1000000}',
     400, "quantity is out of range"),
    ("POST", "/api/payments", lambda w: '{"customerId": "c", "amount": 1e1000000}', 400, "amount is out of range"),
    ("POST", "/api/customers", lambda w: json.dumps({"name": "n" * 1_200_000, "smsNumber": "1"}),
     413, "the request body is too large"),
    ("POST", "/api/customers", lambda w: json.dumps({"name": "n" * 201, "smsNumber": "1"}), 400, "name is too long"),
    ("POST", "/api/customers", lambda w: '{"name": ' + "[" * 1000 + "]" * 1000 + "}",
     400, "the request body is nested too deeply"),
    ("POST", "/api/customers", lambda w: '{"name": "a\\ud800b", "smsNumber": "1"}',
     400, "name contains an invalid character"),
    ("POST", "/api/customers", lambda w: '{"name": "a\\u0000b", "smsNumber": "1"}',
     400, "name contains an invalid character"),
    ("POST", "/api/stores", lambda w: json.dumps({"name": "s" * (4 * 1024 * 1024)}), 413,
     "the request body is too large"),
    ("POST", "/api/baskets", lambda w: json.dumps({"customerId": TOO_LONG_ID}), 400, "customerId is too long"),
    ("POST", "/api/payments", lambda w: json.dumps({"customerId": TOO_LONG_ID, "amount": 1}), 400,
     "customerId is too long"),
    ("PUT", "/api/baskets/{basket}/checkout", lambda w: json.dumps({"paymentId": TOO_LONG_ID}), 400,
     "paymentId is too long"),
    ("POST", "/api/depot/shopping", lambda w: json.dumps({"orderId": TOO_LONG_ID}), 400, "orderId is too long"),
    ("POST", "/api/ordering", lambda w: order(w, customerId=TOO_LONG_ID), 400, "customerId is too long"),
    ("POST", "/api/ordering", lambda w: order(w, paymentId=TOO_LONG_ID), 400, "paymentId is too long"),
    ("PUT", "/api/baskets/{basket}/addItem", lambda w: json.dumps({"productId": TOO_LONG_ID, "quantity": 1}), 404,
     "product not found"),
    ("POST", "/api/ordering", lambda w: order(w, items=[{"storeId": w["store"], "productId": w["product"],
                                                         "price": 9999999999.99, "quantity": 2}]),
     400, ordering_domain.TOTAL_TOO_LARGE),
    ("POST", "/api/ordering", lambda w: order(w, items=[{"storeId": "s", "productId": "p", "quantity": 1}] * 5000),
     400, "items has too many items"),
    ("GET", "/api/depot/shopping?orderId=a%00b", lambda w: "", 400, "orderId contains an invalid character"),
]


@pytest.mark.parametrize("method,path,body,status,message", REPORTED,
                         ids=[f"{r[0]} {r[1]} {r[4]}" for r in REPORTED])
def test_the_reported_requests_are_client_errors(client, staff, world, caplog, method, path, body, status, message):
    events, outbox = StoredEvent.objects.count(), OutboxMessage.objects.count()
    with caplog.at_level(logging.INFO):
        response = client.generic(method, path.format(**world), body(world), content_type="application/json",
                                  **staff.headers)
    assert (response.status_code, response.json()) == (status, {
        "code": 3 if status in (400, 413) else 5, "message": message,
        "details": response.json()["details"]})
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert (StoredEvent.objects.count(), OutboxMessage.objects.count()) == (events, outbox)


def test_the_order_at_the_largest_total_is_still_accepted(staff, world):
    status, body = staff("POST", "/api/ordering", order(world))
    assert status == 200
    assert staff("GET", f"/api/ordering/{body['id']}")[1]["order"]["total"] == float(MONEY_MAX)
