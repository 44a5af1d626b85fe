"""Issue 13, finding 5: ``POST /api/ordering`` prices an order from the catalog, never from the kiosk.

Before, the saga confirmed the payment against the total the kiosk sent and the invoice billed it.
"""

from decimal import Decimal

import pytest

from customers import services as customers
from eventstore.testing import deliver_all
from ordering import domain, models
from payments import public as payments_public
from payments import services as payments
from stores import services as stores

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    store_id = stores.create_store(name="Books", location="Level 1")
    product_id = stores.add_product(store_id=store_id, name="Novel", description="", sku="N1", price=Decimal("9.99"))
    customer_id = customers.register_customer(name="Ann", sms_number="555-0100")
    return {"store": store_id, "product": product_id, "customer": customer_id}


def item(catalog, **fields):
    return {"storeId": catalog["store"], "productId": catalog["product"], "storeName": "Cheap", "productName": "Gift",
            "price": 0.01, "quantity": 3, **fields}


def test_finding_5_the_kiosk_price_and_names_are_ignored_and_the_payment_must_cover_the_catalog_total(
        catalog, as_who):
    kiosk = as_who("kiosk")
    payment_id = payments.authorize_payment(customer_id=catalog["customer"], amount=Decimal("0.03"))
    status, body = kiosk("POST", "/api/ordering", {"customerId": catalog["customer"], "paymentId": payment_id,
                                                   "items": [item(catalog)]})
    assert status == 200
    row = models.Order.objects.get(id=body["id"])
    assert row.total == Decimal("29.97")
    assert row.items == [{"product_id": catalog["product"], "store_id": catalog["store"], "store_name": "Books",
                          "product_name": "Novel", "price": Decimal("9.99"), "quantity": 3}]
    deliver_all()
    assert models.Order.objects.get(id=body["id"]).status == "rejected"
    assert payments_public.find_payment(payment_id).status == "released"


def test_finding_5_an_order_at_catalog_prices_is_approved(catalog, as_who):
    payment_id = payments.authorize_payment(customer_id=catalog["customer"], amount=Decimal("29.97"))
    status, body = as_who("kiosk")("POST", "/api/ordering", {
        "customerId": catalog["customer"], "paymentId": payment_id, "items": [item(catalog, price=1000)]})
    assert status == 200
    deliver_all()
    assert models.Order.objects.get(id=body["id"]).status == "approved"
    assert payments_public.find_payment(payment_id).amount == Decimal("29.97")


def _removed(catalog):
    stores.remove_product(product_id=catalog["product"])
    return {}


def _not_participating(catalog):
    stores.disable_participation(store_id=catalog["store"])
    return {}


@pytest.mark.parametrize("change,status,message", [
    (lambda catalog: {"productId": "unknown-product"}, 404, "product not found"),
    (lambda catalog: {"productId": "bad id!"}, 404, "product not found"),
    (lambda catalog: {"productId": "p" * 65}, 404, "product not found"),
    (_removed, 404, "product not found"),
    (lambda catalog: {"storeId": stores.create_store(name="Other", location="L2")}, 400,
     domain.PRODUCT_NOT_OF_STORE),
    (_not_participating, 400, domain.STORE_NOT_PARTICIPATING),
    (lambda catalog: {"quantity": 10001}, 400, domain.QUANTITY_TOO_LARGE),
    (lambda catalog: {"productId": ""}, 400, domain.E11),
    (lambda catalog: {"price": -1}, 400, domain.E15),
], ids=["unknown", "malformed", "too-long", "removed", "other-store", "not-participating", "quantity", "blank",
        "negative-price"])
def test_finding_5_items_the_catalog_cannot_price_are_refused_and_nothing_is_written(catalog, as_who, change,
                                                                                       status, message):
    fields = change(catalog)
    before = models.Order.objects.count()
    assert as_who("kiosk")("POST", "/api/ordering", {
        "customerId": catalog["customer"], "paymentId": "pay-1", "items": [item(catalog, **fields)]}) == (
        status, {"code": 3 if status == 400 else 5, "message": message, "details": []})
    assert models.Order.objects.count() == before


def test_finding_5_lines_of_one_product_merge_before_the_quantity_bound(catalog, as_who):
    body = {"customerId": catalog["customer"], "paymentId": "pay-1",
            "items": [item(catalog, quantity=6000), item(catalog, quantity=4001)]}
    assert as_who("kiosk")("POST", "/api/ordering", body) == (
        400, {"code": 3, "message": domain.QUANTITY_TOO_LARGE, "details": []})


def test_finding_5_more_than_100_items_is_refused_at_the_request(catalog, as_who):
    body = {"customerId": catalog["customer"], "paymentId": "pay-1", "items": [item(catalog)] * 101}
    assert as_who("kiosk")("POST", "/api/ordering", body) == (
        400, {"code": 3, "message": "items has too many items",
              "details": [{"field": "items", "message": "items has too many items"}]})
