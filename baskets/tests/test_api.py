"""Baskets REST API (api.md §4.3): shapes, error texts in check order, access levels."""

import json
import uuid
from decimal import Decimal

import pytest

from baskets import services
from baskets.tests.conftest import CALLERS
from eventstore.testing import deliver_all
from stores import services as stores

pytestmark = pytest.mark.django_db
D = Decimal
KIOSK = {"kiosk", "store_staff", "store_admin", "depot_staff", "depot_admin", "superuser"}


def call(client, method, path, headers, body=None):
    return client.generic(method, path, json.dumps(body) if body is not None else "",
                          content_type="application/json", **headers)


def error(response):
    return response.status_code, response.json()["message"]


@pytest.fixture
def shop():
    """A participating store with an apple (1.25) and a pear (2.10), in the baskets caches."""
    store_id = stores.create_store(name="Fruit", location="Floor 1")
    apple = stores.add_product(store_id=store_id, name="Apple", description="", sku="A", price=D("1.25"))
    pear = stores.add_product(store_id=store_id, name="Pear", description="", sku="P", price=D("2.10"))
    deliver_all(modules=["baskets"])
    return {"store": store_id, "apple": apple, "pear": pear}


def test_start_basket_then_get_it_with_every_field(client, headers):
    response = call(client, "POST", "/api/baskets", headers["kiosk"], {"customerId": "c1"})
    assert response.status_code == 200 and set(response.json()) == {"id"}
    basket_id = response.json()["id"]
    assert str(uuid.UUID(basket_id)) == basket_id
    got = call(client, "GET", f"/api/baskets/{basket_id}", headers["kiosk"])
    assert got.status_code == 200
    assert got.json() == {"basket": {"id": basket_id, "items": [], "customerId": "c1", "paymentId": "",
                                     "status": "open", "total": 0}}


def test_full_kiosk_flow_shows_items_total_and_checkout(client, headers, shop):
    kiosk = headers["kiosk"]
    basket_id = call(client, "POST", "/api/baskets/", kiosk, {"customer_id": "c1"}).json()["id"]
    for body in ({"productId": shop["pear"], "quantity": 1}, {"product_id": shop["apple"], "quantity": "3"},
                 {"productId": shop["pear"], "quantity": 2}):
        response = call(client, "PUT", f"/api/baskets/{basket_id}/addItem", kiosk, body)
        assert (response.status_code, response.json()) == (200, {})
    response = call(client, "PUT", f"/api/baskets/{basket_id}/removeItem", kiosk, {"productId": shop["apple"],
                                                                                   "quantity": 1})
    assert (response.status_code, response.json()) == (200, {})
    basket = call(client, "GET", f"/api/baskets/{basket_id}", kiosk).json()["basket"]
    assert basket["items"] == [
        {"storeId": shop["store"], "productId": shop["pear"], "storeName": "Fruit", "productName": "Pear",
         "productPrice": 2.1, "quantity": 3},
        {"storeId": shop["store"], "productId": shop["apple"], "storeName": "Fruit", "productName": "Apple",
         "productPrice": 1.25, "quantity": 2},
    ]
    assert basket["total"] == 8.8
    response = call(client, "PUT", f"/api/baskets/{basket_id}/checkout", kiosk, {"paymentId": "pay-1"})
    assert (response.status_code, response.json()) == (200, {})
    basket = call(client, "GET", f"/api/baskets/{basket_id}", kiosk).json()["basket"]
    assert (basket["status"], basket["paymentId"], basket["total"], len(basket["items"])) == ("checked_out", "pay-1",
                                                                                              8.8, 2)


def test_a_basket_and_its_lines_come_in_one_read(client, headers, shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    basket_id = services.start_basket(customer_id="c1")
    services.add_item(basket_id=basket_id, product_id=shop["pear"], quantity=1)
    services.add_item(basket_id=basket_id, product_id=shop["apple"], quantity=2)
    with CaptureQueriesContext(connection) as captured:
        basket = call(client, "GET", f"/api/baskets/{basket_id}", headers["kiosk"]).json()["basket"]
    assert [item["productName"] for item in basket["items"]] == ["Pear", "Apple"] and basket["total"] == 4.6
    [read] = [q["sql"] for q in captured.captured_queries if "baskets_basket" in q["sql"]]
    assert "baskets_basketitem" in read


def test_cancel_basket_empties_it(client, headers, shop):
    basket_id = services.start_basket(customer_id="c1")
    services.add_item(basket_id=basket_id, product_id=shop["apple"], quantity=1)
    response = call(client, "DELETE", f"/api/baskets/{basket_id}", headers["kiosk"])
    assert (response.status_code, response.json()) == (200, {})
    basket = call(client, "GET", f"/api/baskets/{basket_id}", headers["kiosk"]).json()["basket"]
    assert (basket["status"], basket["items"], basket["total"]) == ("canceled", [], 0)
    assert error(call(client, "DELETE", f"/api/baskets/{basket_id}", headers["kiosk"])) == (
        400, "the basket cannot be cancelled")


@pytest.mark.parametrize("body,message", [
    ({}, "the customer id cannot be blank"),
    ({"customerId": "   "}, "the customer id cannot be blank"),
    ({"customerId": 5}, "customerId must be a string"),
])
def test_start_basket_errors(client, headers, body, message):
    assert error(call(client, "POST", "/api/baskets", headers["kiosk"], body)) == (400, message)


@pytest.mark.parametrize("basket_id", [str(uuid.uuid4()), "bad$id", "x" * 65])
@pytest.mark.parametrize("method,suffix,body", [
    ("GET", "", None), ("DELETE", "", None), ("PUT", "/checkout", {"paymentId": "p"}),
    ("PUT", "/addItem", {"productId": "p", "quantity": 1}), ("PUT", "/removeItem", {"productId": "p", "quantity": 1}),
])
def test_unknown_or_malformed_basket_is_404(client, headers, basket_id, method, suffix, body):
    assert error(call(client, method, f"/api/baskets/{basket_id}{suffix}", headers["kiosk"], body)) == (
        404, "basket not found")


ADD_ERRORS = [
    ("open", "missing", 1, 404, "product not found"),
    ("open", "malformed", 1, 404, "product not found"),
    ("open", "removed", 0, 404, "product not found"),
    ("canceled", "orphan", -1, 404, "store not found"),
    ("canceled", "apple", -1, 400, "the basket cannot be modified"),
    ("checked_out", "apple", 1, 400, "the basket cannot be modified"),
    ("open", "apple", -2, 400, "the item quantity cannot be negative"),
    ("open", "closed-store", -2, 400, "the item quantity cannot be negative"),
    ("open", "apple", 0, 400, "the item quantity cannot be zero"),
    ("open", "closed-store", 1, 400, "the store is not participating"),
]


def basket_in(status, shop):
    basket_id = services.start_basket(customer_id="c1")
    services.add_item(basket_id=basket_id, product_id=shop["pear"], quantity=1)
    if status == "canceled":
        services.cancel_basket(basket_id=basket_id)
    if status == "checked_out":
        services.checkout_basket(basket_id=basket_id, payment_id="p")
    return basket_id


@pytest.mark.parametrize("status,product,quantity,code,message", ADD_ERRORS)
def test_add_item_errors_in_check_order(client, headers, shop, status, product, quantity, code, message):
    basket_id = basket_in(status, shop)
    if product == "removed":
        stores.remove_product(product_id=shop["apple"])
        deliver_all(modules=["baskets"])
    if product == "orphan":
        from baskets.models import ProductCache
        ProductCache.objects.create(id="orphan", store_id="no-such-store", name="x", price=D("1"), version=1)
    if product == "closed-store":
        other = stores.create_store(name="Closed", location="B2")
        shop[product] = stores.add_product(store_id=other, name="Lamp", description="", sku="", price=D("5"))
        stores.disable_participation(store_id=other)
        deliver_all(modules=["baskets"])
    product_id = {"missing": str(uuid.uuid4()), "malformed": "bad id", "orphan": "orphan"}.get(product) or shop.get(
        product, shop["apple"])
    response = call(client, "PUT", f"/api/baskets/{basket_id}/addItem", headers["kiosk"],
                    {"productId": product_id, "quantity": quantity})
    assert error(response) == (code, message)


@pytest.mark.parametrize("status,product_id,quantity,code,message", [
    ("open", "", 1, 404, "product not found"),
    ("canceled", "bad id", 1, 404, "product not found"),
    ("canceled", "anything", -1, 400, "the basket cannot be modified"),
    ("checked_out", "anything", 1, 400, "the basket cannot be modified"),
    ("open", "anything", -1, 400, "the item quantity cannot be negative"),
    ("open", "anything", 0, 400, "the item quantity cannot be zero"),
])
def test_remove_item_errors_in_check_order(client, headers, shop, status, product_id, quantity, code, message):
    basket_id = basket_in(status, shop)
    response = call(client, "PUT", f"/api/baskets/{basket_id}/removeItem", headers["kiosk"],
                    {"productId": product_id, "quantity": quantity})
    assert error(response) == (code, message)


def test_remove_item_of_a_product_not_in_the_basket_is_a_no_op(client, headers, shop):
    basket_id = basket_in("open", shop)
    response = call(client, "PUT", f"/api/baskets/{basket_id}/removeItem", headers["kiosk"],
                    {"productId": shop["apple"], "quantity": 1})
    assert (response.status_code, response.json()) == (200, {})


@pytest.mark.parametrize("status,items,payment_id,message", [
    ("canceled", False, "", "baskets checkout: the basket cannot be modified"),
    ("checked_out", True, "p", "baskets checkout: the basket cannot be modified"),
    ("empty", False, "", "baskets checkout: the basket has no items"),
    ("open", True, "  ", "baskets checkout: the payment id cannot be blank"),
])
def test_checkout_errors_in_check_order(client, headers, shop, status, items, payment_id, message):
    basket_id = services.start_basket(customer_id="c1") if status == "empty" else basket_in(status, shop)
    response = call(client, "PUT", f"/api/baskets/{basket_id}/checkout", headers["kiosk"], {"paymentId": payment_id})
    assert error(response) == (400, message)


@pytest.mark.parametrize("body,message", [
    ({"productId": 1, "quantity": 1}, "productId must be a string"),
    ({"productId": "p", "quantity": 1.5}, "quantity must be an integer"),
    ({"productId": "p", "quantity": 2**31}, "quantity is out of range"),
    ([], "the request body must be a JSON object"),
])
def test_add_item_type_errors_come_before_the_basket_lookup(client, headers, body, message):
    assert error(call(client, "PUT", "/api/baskets/no-such-basket/addItem", headers["kiosk"], body)) == (400, message)


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/baskets"), ("PUT", "/api/baskets/b1"), ("GET", "/api/baskets/b1/checkout"),
    ("POST", "/api/baskets/b1/addItem"), ("DELETE", "/api/baskets/b1/removeItem"),
])
def test_wrong_method_is_405_even_without_credentials(client, headers, method, path):
    assert error(call(client, method, path, headers["none"])) == (405, "Method Not Allowed")


ENDPOINTS = [
    ("POST", "", {"customerId": "c1"}),
    ("GET", "/{basket}", None),
    ("DELETE", "/{basket}", None),
    ("PUT", "/{basket}/checkout", {"paymentId": "p"}),
    ("PUT", "/{basket}/addItem", {"productId": "{apple}", "quantity": 1}),
    ("PUT", "/{basket}/removeItem", {"productId": "{apple}", "quantity": 1}),
]


@pytest.mark.parametrize("method,suffix,body", ENDPOINTS)
@pytest.mark.parametrize("who", CALLERS)
def test_access_levels(client, headers, shop, who, method, suffix, body):
    basket_id = basket_in("open", shop)
    if body and "productId" in body:
        body = {**body, "productId": shop["apple"]}
    response = call(client, method, "/api/baskets" + suffix.format(basket=basket_id), headers[who], body)
    if who == "none":
        assert error(response) == (401, "authentication required")
    elif who == "invalid":
        assert error(response) == (401, "invalid token")
    elif who in KIOSK:
        assert response.status_code == 200, response.json()
    else:
        assert error(response) == (403, "permission denied")
