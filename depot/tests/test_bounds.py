"""Issue 13, findings 2 and 3 for shopping lists (ADR 20): item quantities are bounded like an order's, lines
too, and ids the depot looks up never reach the database malformed."""

import pytest

from depot import domain
from depot.tests.conftest import Api, staff_token
from depot.tests.test_api import error

pytestmark = pytest.mark.django_db


@pytest.fixture
def depot(db) -> Api:
    return Api(staff_token("desk", "depot_staff"))


def test_a_quantity_over_the_bound_is_refused_per_line_and_after_merging(depot, mall):
    error(depot.call("POST", "/api/depot/shopping", {"orderId": "o", "items": [
        {"productId": mall.robot, "storeId": mall.toys, "quantity": 10001}]}), 400, domain.QUANTITY_TOO_LARGE)
    error(depot.call("POST", "/api/depot/shopping", {"orderId": "o", "items": [
        {"productId": mall.robot, "storeId": mall.toys, "quantity": 6000},
        {"productId": mall.robot, "storeId": mall.toys, "quantity": 4001}]}), 400, domain.QUANTITY_TOO_LARGE)
    assert depot.call("POST", "/api/depot/shopping", {"orderId": "o", "items": [
        {"productId": mall.robot, "storeId": mall.toys, "quantity": 10000}]}).status_code == 200


@pytest.mark.parametrize("field", ["storeId", "productId"])
def test_a_looked_up_id_with_a_nul_or_beyond_64_characters_is_not_found(depot, mall, field):
    for bad in ("a\x00b", "x" * 65):
        item = {"productId": mall.robot, "storeId": mall.toys, "quantity": 1, field: bad}
        response = depot.call("POST", "/api/depot/shopping", {"orderId": "o", "items": [item]})
        error(response, 404, "store not found" if field == "storeId" else "product not found")
