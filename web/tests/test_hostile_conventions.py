"""Hostile input at the request conventions (issue 13, findings 1, 3 and 8; ADR 20): every class of abuse is a
4xx with the error body, decided before anything expensive or anything reaches the database."""

from decimal import Decimal

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("toyapp.api")]


def post(client, body, content_type="application/json", **headers):
    return client.generic("POST", "/api/toy/typed", body, content_type=content_type, **headers)


def error(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    return response.json()


@pytest.mark.parametrize("body,message", [
    ('{"quantity": "1e300000"}', "quantity is out of range"),
    ('{"quantity": "1e100000000000"}', "quantity is out of range"),
    ('{"quantity": 1e100000000000}', "quantity is out of range"),
    ('{"quantity": 1e1000000000000000000}', "quantity is out of range"),
    ('{"quantity": 1e300000}', "quantity is out of range"),
    ('{"quantity": -1e1000000}', "quantity is out of range"),
    ('{"quantity": ' + "9" * 5000 + "}", "quantity is out of range"),
    ('{"quantity": "' + "9" * 5000 + '"}', "quantity is out of range"),
    ('{"quantity": 1e-1000000}', "quantity must be an integer"),
    ('{"quantity": 0e1000000}', "the widget name cannot be blank"),
    ('{"price": 1e1000000}', "price is out of range"),
    ('{"price": "1e1000000000000000000"}', "price is out of range"),
    ('{"price": 1e1000000000000000000}', "price is out of range"),
    ('{"price": "1e1000000"}', "price is out of range"),
    ('{"price": -1e1000000}', "price is out of range"),
    ('{"price": ' + "9" * 5000 + "}", "price is out of range"),
    ('{"price": 9999999999.995}', "price is out of range"),
    ('{"price": 1e-1000000}', "the widget name cannot be blank"),
    ('{"filters": {"minTotal": 1e999999999}}', "filters.minTotal is out of range"),
    ('{"items": [{"quantity": 1e999999999}]}', "items[0].quantity is out of range"),
])
def test_finding_1_huge_numbers_are_out_of_range_without_being_converted(client, body, message):
    """Before the fix ``"1e300000"`` became a 300,000-digit int before the range check (3.4 s of one
    worker), ``1e100000000000`` a MemoryError (500) and ``1e1000000`` as money a decimal Overflow (500):
    the range is now read from the exponent, before any conversion."""
    response = post(client, body)
    assert response.status_code == 400
    assert error(response)["message"] == message


def test_finding_1_a_number_in_range_still_works(client):
    echo = post(client, '{"name": "w", "quantity": "5E0", "price": 12.345e1}').json()["echo"]
    assert echo["quantity"] == 5 and Decimal(str(echo["price"])) == Decimal("123.45")


@pytest.mark.parametrize("body,status,message", [
    ('{"name": ' + "[" * 1000 + "]" * 1000 + "}", 400, "the request body is nested too deeply"),
    ('{"name": ' + "[" * 100000 + "]" * 100000 + "}", 400, "the request body is nested too deeply"),
    ('{"x": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}", 400, "the request body is nested too deeply"),
    ('{"name": "a\\ud800b"}', 400, "name contains an invalid character"),
    ('{"name": "a\\udfffb"}', 400, "name contains an invalid character"),
    ('{"name": "a\\u0000b"}', 400, "name contains an invalid character"),
    ('{"customerId": "a\\u0000"}', 400, "customerId contains an invalid character"),
    ('{"filters": {"storeIds": ["ok", "a\\u0000"]}}', 400, "filters.storeIds[1] contains an invalid character"),
    ('{"name": "' + "x" * 1001 + '"}', 400, "name is too long"),
    ('{"customerId": "' + "c" * 65 + '"}', 400, "customerId is too long"),
    ('{"items": [' + ",".join(['{"quantity": 1}'] * 101) + "]}", 400, "items has too many items"),
    ('{"filters": {"storeIds": [' + ",".join(['"s"'] * 101) + "]}}", 400, "filters.storeIds has too many items"),
    ('{"filters": {"after": "' + "2" * 100 + 'T"}}', 400, "filters.after must be an RFC 3339 timestamp"),
])
def test_finding_3_client_mistakes_are_400_not_500_or_503(client, body, status, message):
    response = post(client, body)
    assert response.status_code == status
    payload = error(response)
    assert payload["code"] == 3 and payload["message"] == message


def test_finding_3_a_paired_surrogate_and_ordinary_unicode_are_fine(client):
    echo = post(client, '{"name": "caf\\u00e9 \\ud83d\\ude00", "customerId": "' + "c" * 64 + '"}').json()["echo"]
    assert echo["name"] == "café 😀"


def test_finding_3_a_body_over_the_limit_is_413_with_the_error_body(client, settings):
    response = post(client, '{"name": "' + "x" * (3 * 1024 * 1024) + '"}')
    assert response.status_code == 413
    assert error(response) == {"code": 3, "message": "the request body is too large", "details": []}


def test_finding_8_a_bad_host_is_a_json_400(client):
    response = client.get("/api/toy/levels/public", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert error(response) == {"code": 3, "message": "Bad Request", "details": []}


def test_finding_8_not_acceptable_is_a_json_406_with_a_client_code(client):
    response = client.get("/api/toy/levels/public", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert error(response) == {"code": 3, "message": "Not Acceptable", "details": []}


def test_finding_3_a_value_the_database_refuses_is_a_client_error_never_503(client):
    """503 means the database is down; a DataError that slips past validation is the client's value."""
    client.raise_request_exception = False
    response = post(client, '{"name": "unstorable"}')
    assert response.status_code == 400
    assert error(response) == {"code": 3, "message": "the request holds a value that cannot be stored",
                               "details": []}
