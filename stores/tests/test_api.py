"""Stores REST API (api.md §4.1): success shapes, error texts in check order, access levels."""

import json
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from rest_framework.renderers import JSONRenderer

from access.testing import WHO, Api
from stores import api, models, services

pytestmark = pytest.mark.django_db

UNKNOWN = str(uuid.uuid4())
MALFORMED = "x" * 65


def new_store(name="Shop", location="Floor 1") -> str:
    return services.create_store(name=name, location=location)


def new_product(store_id, name="Tea", price="9.99", description="Green", sku="T1") -> str:
    return services.add_product(store_id=store_id, name=name, description=description, sku=sku, price=Decimal(price))


# ---------------------------------------------------------------- stores


def test_given_valid_body_when_create_store_then_id_and_store_reads_back_trimmed(staff):
    status, body = staff("POST", "/api/stores", {"name": " Shop ", "location": " Floor 1 "})
    assert status == 200 and list(body) == ["id"]
    assert uuid.UUID(body["id"]).version == 4
    assert staff("GET", f"/api/stores/{body['id']}") == (200, {"store": {
        "id": body["id"], "name": "Shop", "location": "Floor 1", "participating": True}})


@pytest.mark.parametrize("body,message", [
    ({}, "the store name cannot be blank"),
    ({"name": "  ", "location": ""}, "the store name cannot be blank"),
    ({"name": "Shop", "location": " "}, "the store location cannot be blank"),
    ({"name": 5}, "name must be a string"),
    ("[1]", "the request body must be a JSON object"),
    ("{", "the request body is not valid JSON"),
])
def test_given_bad_body_when_create_store_then_400_with_text(staff, body, message):
    status, error = staff("POST", "/api/stores", body)
    assert (status, error["code"], error["message"]) == (400, 3, message)


def test_given_stores_when_listed_then_creation_order_and_participating_filter(staff):
    first, second, third = new_store("B"), new_store("A"), new_store("C", "Floor 3")
    services.disable_participation(store_id=second)
    status, body = staff("GET", "/api/stores")
    assert status == 200
    assert body == {"stores": [
        {"id": first, "name": "B", "location": "Floor 1", "participating": True},
        {"id": second, "name": "A", "location": "Floor 1", "participating": False},
        {"id": third, "name": "C", "location": "Floor 3", "participating": True},
    ]}
    assert staff("GET", "/api/stores/participating") == (200, {"stores": [body["stores"][0], body["stores"][2]]})


def test_given_no_stores_when_listed_then_empty_lists(staff):
    assert staff("GET", "/api/stores") == (200, {"stores": []})
    assert staff("GET", "/api/stores/participating/") == (200, {"stores": []})


@pytest.mark.parametrize("store_id", [UNKNOWN, MALFORMED, "bad%20id"])
def test_given_unknown_or_malformed_id_when_get_store_then_404(staff, store_id):
    assert staff("GET", f"/api/stores/{store_id}") == (404, {"code": 5, "message": "store not found", "details": []})


def test_participation_disable_enable_and_errors_in_order(staff):
    store_id = new_store()
    assert staff("PUT", f"/api/stores/{store_id}/participating", {}) == (
        400, {"code": 3, "message": "the store is already participating", "details": []})
    assert staff("DELETE", f"/api/stores/{store_id}/participating") == (200, {})
    assert staff("GET", f"/api/stores/{store_id}")[1]["store"]["participating"] is False
    assert staff("DELETE", f"/api/stores/{store_id}/participating")[1]["message"] == \
        "the store is already not participating"
    assert staff("PUT", f"/api/stores/{store_id}/participating") == (200, {})
    assert staff("GET", f"/api/stores/{store_id}")[1]["store"]["participating"] is True


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("store_id", [UNKNOWN, MALFORMED])
def test_given_unknown_store_when_participation_changes_then_404(staff, method, store_id):
    status, error = staff(method, f"/api/stores/{store_id}/participating")
    assert (status, error["message"]) == (404, "store not found")


def test_rebrand_store_success_no_op_and_errors_in_order(staff):
    store_id = new_store()
    assert staff("PUT", f"/api/stores/{UNKNOWN}/rebrand", {"name": ""})[1]["message"] == "store not found"
    assert staff("PUT", f"/api/stores/{store_id}/rebrand", {"name": " "}) == (
        400, {"code": 3, "message": "the store name cannot be blank", "details": []})
    assert staff("PUT", f"/api/stores/{store_id}/rebrand", {"name": " Renamed "}) == (200, {})
    assert staff("PUT", f"/api/stores/{store_id}/rebrand/", {"name": "Renamed"}) == (200, {})
    assert staff("GET", f"/api/stores/{store_id}")[1]["store"]["name"] == "Renamed"


def test_given_bad_body_and_unknown_store_when_rebrand_then_body_is_checked_first(staff):
    assert staff("PUT", f"/api/stores/{UNKNOWN}/rebrand", "[1]")[1]["message"] == \
        "the request body must be a JSON object"
    assert staff("PUT", f"/api/stores/{UNKNOWN}/rebrand", {"name": 1})[1]["message"] == "name must be a string"


# ---------------------------------------------------------------- products


def test_given_store_when_add_product_then_id_and_product_reads_back(staff):
    store_id = new_store()
    status, body = staff("POST", f"/api/stores/{store_id}/products",
                         {"name": " Tea ", "description": " Green ", "sku": " T1 ", "price": 21.689999999999998})
    assert status == 200 and list(body) == ["id"]
    assert uuid.UUID(body["id"]).version == 4
    assert staff("GET", f"/api/stores/products/{body['id']}") == (200, {"product": {
        "id": body["id"], "storeId": store_id, "name": "Tea", "description": "Green", "sku": "T1", "price": 21.69}})


def test_given_only_a_name_when_add_product_then_every_field_is_present(staff):
    store_id = new_store()
    product_id = staff("POST", f"/api/stores/{store_id}/products", {"name": "Tea"})[1]["id"]
    assert staff("GET", f"/api/stores/products/{product_id}")[1] == {"product": {
        "id": product_id, "storeId": store_id, "name": "Tea", "description": "", "sku": "", "price": 0}}


@pytest.mark.parametrize("store,body,status,message", [
    ("unknown", {"name": "", "price": -1}, 404, "store not found"),
    ("malformed", {"name": "Tea"}, 404, "store not found"),
    ("known", {"name": " ", "price": -1}, 400, "initializing product: the product name cannot be blank"),
    ("known", {"name": "Tea", "price": "-0.01"}, 400, "initializing product: the product price cannot be negative"),
    ("known", {"name": "Tea", "price": "abc"}, 400, "price must be a number"),
    ("unknown", {"name": "Tea", "price": 99999999999}, 400, "price is out of range"),
])
def test_add_product_errors_in_order(staff, store, body, status, message):
    store_id = {"unknown": UNKNOWN, "malformed": MALFORMED, "known": new_store()}[store]
    got_status, error = staff("POST", f"/api/stores/{store_id}/products", body)
    assert (got_status, error["message"]) == (status, message)


def test_store_products_are_in_creation_order_without_removed_ones(staff):
    store_id, other = new_store(), new_store("Other")
    first = new_product(store_id, "B", "1.5")
    removed = new_product(store_id, "A")
    last = new_product(store_id, "C", "200")
    new_product(other, "Elsewhere")
    services.remove_product(product_id=removed)
    assert staff("GET", f"/api/stores/{store_id}/products") == (200, {"products": [
        {"id": first, "storeId": store_id, "name": "B", "description": "Green", "sku": "T1", "price": 1.5},
        {"id": last, "storeId": store_id, "name": "C", "description": "Green", "sku": "T1", "price": 200},
    ]})
    assert staff("GET", f"/api/stores/{new_store('Empty')}/products") == (200, {"products": []})
    assert staff("GET", f"/api/stores/{UNKNOWN}/products")[1]["message"] == "store not found"


def test_rebrand_product_success_and_errors_in_order(staff):
    product_id = new_product(new_store())
    assert staff("PUT", f"/api/stores/products/{UNKNOWN}/rebrand", {"name": ""})[1]["message"] == "product not found"
    assert staff("PUT", f"/api/stores/products/{product_id}/rebrand", {"name": " "})[1]["message"] == \
        "the product name cannot be blank"
    rebrand = {"name": "Oolong", "description": ""}
    assert staff("PUT", f"/api/stores/products/{product_id}/rebrand", rebrand) == (200, {})
    product = staff("GET", f"/api/stores/products/{product_id}")[1]["product"]
    assert (product["name"], product["description"]) == ("Oolong", "")


def test_increase_price_success_no_op_and_errors_in_order(staff):
    product_id = new_product(new_store(), price="10")
    assert staff("PUT", f"/api/stores/products/{UNKNOWN}/increasePrice", {"price": 1})[1]["message"] == \
        "product not found"
    assert staff("PUT", f"/api/stores/products/{product_id}/increasePrice", {"price": "9.99"})[1]["message"] == \
        "the price change would be a decrease"
    assert staff("PUT", f"/api/stores/products/{product_id}/increasePrice", {"price": 10}) == (200, {})
    assert staff("PUT", f"/api/stores/products/{product_id}/increasePrice", {"price": 12.345}) == (200, {})
    assert staff("GET", f"/api/stores/products/{product_id}")[1]["product"]["price"] == 12.35


def test_decrease_price_success_no_op_and_errors_in_order(staff):
    product_id = new_product(new_store(), price="10")
    assert staff("PUT", f"/api/stores/products/{MALFORMED}/decreasePrice", {"price": 1})[1]["message"] == \
        "product not found"
    assert staff("PUT", f"/api/stores/products/{product_id}/decreasePrice", {"price": 11})[1]["message"] == \
        "the price change would be an increase"
    assert staff("PUT", f"/api/stores/products/{product_id}/decreasePrice", {"price": -1})[1]["message"] == \
        "the product price cannot be negative"
    assert staff("PUT", f"/api/stores/products/{product_id}/decreasePrice", {"price": "10.00"}) == (200, {})
    assert staff("PUT", f"/api/stores/products/{product_id}/decreasePrice", {"price": "7.5"}) == (200, {})
    assert staff("GET", f"/api/stores/products/{product_id}")[1]["product"]["price"] == 7.5


def test_removed_product_is_not_found_for_every_product_operation(staff):
    product_id = new_product(new_store())
    assert staff("DELETE", f"/api/stores/products/{product_id}") == (200, {})
    not_found = {"code": 5, "message": "product not found", "details": []}
    assert staff("DELETE", f"/api/stores/products/{product_id}") == (404, not_found)
    assert staff("GET", f"/api/stores/products/{product_id}") == (404, not_found)
    assert staff("PUT", f"/api/stores/products/{product_id}/rebrand", {"name": "x"}) == (404, not_found)
    assert staff("PUT", f"/api/stores/products/{product_id}/increasePrice", {"price": 99}) == (404, not_found)
    assert staff("PUT", f"/api/stores/products/{product_id}/decreasePrice", {"price": 1}) == (404, not_found)
    assert staff("DELETE", f"/api/stores/products/{UNKNOWN}") == (404, not_found)


def test_given_store_named_products_the_product_routes_still_win(staff):
    store_id = new_store()
    product_id = new_product(store_id)
    assert staff("GET", f"/api/stores/products/{product_id}")[0] == 200
    assert staff("GET", "/api/stores/products/products") == (
        404, {"code": 5, "message": "product not found", "details": []})


# ---------------------------------------------------------------- routes and access levels


@pytest.mark.parametrize("method,path", [
    ("DELETE", "/api/stores"), ("PUT", "/api/stores/participating"), ("POST", "/api/stores/x"),
    ("POST", "/api/stores/x/participating"), ("GET", "/api/stores/x/rebrand"), ("PUT", "/api/stores/x/products"),
    ("POST", "/api/stores/products/x"), ("DELETE", "/api/stores/products/x/increasePrice"),
])
def test_given_wrong_method_when_called_without_token_then_405_first(as_who, method, path):
    assert as_who(None)(method, path) == (405, {"code": 12, "message": "Method Not Allowed", "details": []})


KIOSK = {"kiosk", "store_staff", "store_admin", "depot_staff", "depot_admin", "superuser"}
STORE_STAFF = {"store_staff", "store_admin", "superuser"}
STORE_ADMIN = {"store_admin", "superuser"}

ENDPOINTS = [
    ("createStore", "POST", "/api/stores", {"name": "N", "location": "L"}, STORE_STAFF),
    ("enableParticipation", "PUT", "/api/stores/{closed}/participating", {}, STORE_ADMIN),
    ("disableParticipation", "DELETE", "/api/stores/{store}/participating", None, STORE_ADMIN),
    ("rebrandStore", "PUT", "/api/stores/{store}/rebrand", {"name": "New"}, STORE_STAFF),
    ("getStores", "GET", "/api/stores", None, KIOSK),
    ("getStore", "GET", "/api/stores/{store}", None, KIOSK),
    ("getParticipatingStores", "GET", "/api/stores/participating", None, KIOSK),
    ("addProduct", "POST", "/api/stores/{store}/products", {"name": "P", "price": 1}, STORE_STAFF),
    ("rebrandProduct", "PUT", "/api/stores/products/{product}/rebrand", {"name": "New"}, STORE_STAFF),
    ("increaseProductPrice", "PUT", "/api/stores/products/{product}/increasePrice", {"price": 20}, STORE_STAFF),
    ("decreaseProductPrice", "PUT", "/api/stores/products/{product}/decreasePrice", {"price": 1}, STORE_STAFF),
    ("removeProduct", "DELETE", "/api/stores/products/{product}", None, STORE_STAFF),
    ("getProduct", "GET", "/api/stores/products/{product}", None, KIOSK),
    ("getStoreProducts", "GET", "/api/stores/{store}/products", None, KIOSK),
]


@pytest.mark.parametrize("who", (None, "invalid") + WHO)
@pytest.mark.parametrize("operation,method,path,body,allowed", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_access_level_matrix(client, as_who, who, operation, method, path, body, allowed):
    store = new_store()
    closed = new_store("Closed")
    services.disable_participation(store_id=closed)
    product = new_product(store, price="10")
    caller = Api(client, "staff_not-a-real-token") if who == "invalid" else as_who(who)
    if who == "store_staff":
        models.StoreMember.objects.create(store_id=store, user=User.objects.get(username="user-store_staff"))
    status, body_out = caller(method, path.format(store=store, closed=closed, product=product), body)
    if who is None:
        assert (status, body_out["message"]) == (401, "authentication required")
    elif who == "invalid":
        assert (status, body_out["message"]) == (401, "invalid token")
    elif who in allowed:
        assert status == 200, body_out
    else:
        assert (status, body_out) == (403, {"code": 7, "message": "permission denied", "details": []})


def test_openapi_schema_names_every_stores_operation(client):
    schema = client.get("/api/schema/?format=json").json()
    operations = {(path, method): op["operationId"] for path, item in schema["paths"].items()
                  for method, op in item.items() if path.startswith("/api/stores")}
    assert operations == {
        ("/api/stores", "get"): "getStores", ("/api/stores", "post"): "createStore",
        ("/api/stores/participating", "get"): "getParticipatingStores",
        ("/api/stores/{store_id}", "get"): "getStore",
        ("/api/stores/{store_id}/participating", "put"): "enableParticipation",
        ("/api/stores/{store_id}/participating", "delete"): "disableParticipation",
        ("/api/stores/{store_id}/rebrand", "put"): "rebrandStore",
        ("/api/stores/{store_id}/products", "get"): "getStoreProducts",
        ("/api/stores/{store_id}/products", "post"): "addProduct",
        ("/api/stores/products/{product_id}", "get"): "getProduct",
        ("/api/stores/products/{product_id}", "delete"): "removeProduct",
        ("/api/stores/products/{product_id}/rebrand", "put"): "rebrandProduct",
        ("/api/stores/products/{product_id}/increasePrice", "put"): "increaseProductPrice",
        ("/api/stores/products/{product_id}/decreasePrice", "put"): "decreaseProductPrice",
    }
    product = schema["components"]["schemas"]["ProductOut"]
    assert product["properties"]["price"]["type"] == "number" and set(product["required"]) == {
        "id", "storeId", "name", "description", "sku", "price"}


def test_store_products_render_exactly_as_the_documented_product_serializer(staff):
    store_id = new_store()
    new_product(store_id, "B", "1.5")
    new_product(store_id, "C", "0.10")
    rows = models.Product.objects.filter(store_id=store_id).order_by("created_position")
    documented = json.loads(JSONRenderer().render(api.ProductsResponse({"products": rows}).data))
    assert staff("GET", f"/api/stores/{store_id}/products") == (200, documented)
