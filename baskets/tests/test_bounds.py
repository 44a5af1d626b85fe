"""Issue 13, finding 4: every basket the API accepts can be read, ordered, invoiced and paid (ADR 20).

Before the bounds, a product at 9999999999.99 added twice with quantity 2147483647 made ``GET`` answer 500
and the checkout a dead letter in ordering (numeric overflow): no order, and the payment stayed authorized.
"""

from decimal import Decimal

import pytest

from baskets import domain
from baskets import services as baskets
from baskets.domain import Basket, ProductChoice
from customers import services as customers
from depot import public as depot_public
from depot import services as depot
from depot.tests.conftest import given_bot
from eventstore.errors import DomainError
from eventstore.models import DeadLetter
from eventstore.schema import LINES_MAX, MONEY_MAX, QUANTITY_MAX
from eventstore.testing import deliver_all
from ordering import models as ordering_models
from payments import public as payments_public
from payments import services as payments
from stores import services as stores

TOP_PRICE = MONEY_MAX


def choice(product_id="p", price="1.00") -> ProductChoice:
    return ProductChoice(store_id="s", product_id=product_id, store_name="S", product_name="P",
                         price=Decimal(price), store_participating=True)


def basket_with(*adds: tuple[ProductChoice, int]) -> Basket:
    basket = Basket.start("b", customer_id="c")
    for product, quantity in adds:
        basket.add_item(product, quantity)
    return basket


@pytest.mark.parametrize("adds,refused,message", [
    ([], (choice(), QUANTITY_MAX + 1), domain.QUANTITY_TOO_LARGE),
    ([(choice(), QUANTITY_MAX)], (choice(), 1), domain.QUANTITY_TOO_LARGE),
    ([], (choice(), 2147483647), domain.QUANTITY_TOO_LARGE),
    ([(choice(str(n)), 1) for n in range(LINES_MAX)], (choice("one-more"), 1), domain.TOO_MANY_PRODUCTS),
    ([(choice(price=str(TOP_PRICE)), 1)], (choice("q", "0.01"), 1), domain.TOTAL_TOO_LARGE),
    ([], (choice(price="1000000000.00"), 10), domain.TOTAL_TOO_LARGE),
])
def test_the_domain_refuses_a_line_beyond_the_bounds(adds, refused, message):
    basket = basket_with(*adds)
    with pytest.raises(DomainError) as refusal:
        basket.add_item(*refused)
    assert refusal.value.message == message


def test_the_bounds_themselves_are_accepted():
    basket = basket_with((choice("a", "999999999.99"), 10), (choice("b", "0.09"), 1))
    assert basket.total == MONEY_MAX
    basket = basket_with(*[(choice(str(n)), 1) for n in range(LINES_MAX - 1)], (choice("z"), QUANTITY_MAX))
    assert len(basket.items) == LINES_MAX


@pytest.mark.django_db
def test_finding_4_the_reported_basket_is_refused_at_the_kiosk_and_every_accepted_basket_is_readable(staff):
    store_id = staff("POST", "/api/stores", {"name": "Jewels", "location": "L1"})[1]["id"]
    product_id = staff("POST", f"/api/stores/{store_id}/products", {"name": "Crown", "price": str(TOP_PRICE)})[1]["id"]
    basket_id = staff("POST", "/api/baskets", {"customerId": "c-1"})[1]["id"]

    assert staff("PUT", f"/api/baskets/{basket_id}/addItem", {"productId": product_id, "quantity": 2147483647}) == (
        400, {"code": 3, "message": domain.QUANTITY_TOO_LARGE, "details": []})
    assert staff("PUT", f"/api/baskets/{basket_id}/addItem", {"productId": product_id, "quantity": 1})[0] == 200
    assert staff("PUT", f"/api/baskets/{basket_id}/addItem", {"productId": product_id, "quantity": 1}) == (
        400, {"code": 3, "message": domain.TOTAL_TOO_LARGE, "details": []})

    status, body = staff("GET", f"/api/baskets/{basket_id}")
    assert status == 200 and body["basket"]["total"] == float(TOP_PRICE)


@pytest.mark.django_db
def test_finding_4_a_basket_at_the_largest_total_is_ordered_invoiced_and_paid():
    store_id = stores.create_store(name="Jewels", location="L1")
    product_id = stores.add_product(store_id=store_id, name="Crown", description="", sku="", price=TOP_PRICE)
    customer_id = customers.register_customer(name="Queen", sms_number="555-0199")
    payment_id = payments.authorize_payment(customer_id=customer_id, amount=TOP_PRICE)
    deliver_all()
    basket_id = baskets.start_basket(customer_id=customer_id)
    baskets.add_item(basket_id=basket_id, product_id=product_id, quantity=1)
    baskets.checkout_basket(basket_id=basket_id, payment_id=payment_id)
    deliver_all()
    assert ordering_models.Order.objects.get(id=basket_id).status == "approved"

    list_id = depot_public.shopping_list_for_order(basket_id).id
    depot.assign_shopping_list(list_id=list_id, bot_id=given_bot("bot-1"))
    depot.start_shopping(list_id=list_id)
    depot.pick_item(list_id=list_id, product_id=product_id, quantity=1)
    depot.complete_shopping_list(list_id=list_id)
    deliver_all()
    assert payments_public.find_invoice(basket_id).amount == TOP_PRICE
    payments.pay_invoice(invoice_id=basket_id)
    deliver_all()
    assert ordering_models.Order.objects.get(id=basket_id).status == "completed"
    assert payments_public.find_payment(payment_id).status == "captured"
    assert not DeadLetter.objects.exists()
