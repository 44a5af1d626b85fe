"""Request conventions and error bodies (api.md §1.2–1.4): field types, texts, routes, 404/405/500."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("toyapp.api")]


def post(client, body, content_type="application/json", **headers):
    return client.generic("POST", "/api/toy/typed", body, content_type=content_type, **headers)


def test_success_parses_camel_and_snake_case_and_numeric_strings(client):
    response = post(client, '{"name": "w", "customer_id": "c1", "price": "21.689999999999998",'
                            ' "quantity": "5", "items": [{"product_id": "p", "quantity": 2.0}]}')
    assert response.status_code == 200
    echo = response.json()["echo"]
    assert echo["customerId"] == "c1" and echo["quantity"] == 5 and echo["price"] == 21.69
    assert echo["items"] == [{"productId": "p", "quantity": 2}]
    assert response["X-Correlation-ID"]


def test_camel_case_wins_and_null_is_absent(client):
    echo = post(client, '{"name": "w", "customerId": "camel", "customer_id": "snake", "price": null}').json()["echo"]
    assert echo["customerId"] == "camel" and echo["price"] == 0


@pytest.mark.parametrize("body,message,field", [
    ("{", "the request body is not valid JSON", None),
    ("[1]", "the request body must be a JSON object", None),
    ('"text"', "the request body must be a JSON object", None),
    ('{"name": 5}', "name must be a string", "name"),
    ('{"price": "abc"}', "price must be a number", "price"),
    ('{"price": "1_000"}', "price must be a number", "price"),
    ('{"price": true}', "price must be a number", "price"),
    ('{"price": 99999999999}', "price is out of range", "price"),
    ('{"quantity": 1.5}', "quantity must be an integer", "quantity"),
    ('{"quantity": 2147483648}', "quantity is out of range", "quantity"),
    ('{"enabled": "yes"}', "enabled must be a boolean", "enabled"),
    ('{"items": {}}', "items must be a list", "items"),
    ('{"items": [{"quantity": 1}, {"quantity": "x"}]}', "items[1].quantity must be an integer", "items[1].quantity"),
    ('{"items": [1]}', "items[0] must be an object", "items[0]"),
    ('{"filters": []}', "filters must be an object", "filters"),
    ('{"filters": {"minTotal": "x"}}', "filters.minTotal must be a number", "filters.minTotal"),
    ('{"filters": {"after": "yesterday"}}', "filters.after must be an RFC 3339 timestamp", "filters.after"),
    ('{"filters": {"storeIds": [1]}}', "filters.storeIds[0] must be a string", "filters.storeIds[0]"),
])
def test_bad_input_gets_400_with_spec_text(client, body, message, field):
    response = post(client, body)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    assert payload["code"] == 3 and payload["message"] == message
    assert payload["details"] == ([] if field is None else [{"field": field, "message": message}])


def test_empty_body_is_an_empty_object_and_business_errors_are_400(client):
    response = post(client, "", content_type="")
    assert response.status_code == 400
    assert response.json() == {"code": 3, "message": "the widget name cannot be blank", "details": []}


def test_not_found_unknown_route_wrong_method_and_internal_error(client):
    assert post(client, '{"name": "missing"}').json() == {"code": 5, "message": "widget not found", "details": []}
    unknown = client.get("/api/nothing/here")
    assert unknown.status_code == 404 and unknown.json() == {"code": 5, "message": "Not Found", "details": []}
    wrong = client.delete("/api/toy/typed")
    assert wrong.status_code == 405 and wrong.json() == {"code": 12, "message": "Method Not Allowed", "details": []}
    trailing = client.generic("POST", "/api/toy/typed/", "{\"name\": \"w\"}")
    assert trailing.status_code == 200


def test_unexpected_fault_is_500_internal_error(client):
    client.raise_request_exception = False
    response = post(client, '{"name": "boom"}')
    assert response.status_code == 500
    assert response.json() == {"code": 13, "message": "internal error", "details": []}
