"""An order taken through the whole flow in-process: checkout, approval, a bot's round, ready with an invoice."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from baskets import services as baskets
from customers import services as customers
from depot import public as depot_public
from depot import services as depot
from depot.tests.conftest import given_bot
from eventstore.testing import deliver_all
from ordering import models as ordering_models
from payments import services as payments
from payments.public import find_invoice
from stores import services as stores


@dataclass(frozen=True)
class DeliveredOrder:
    order_id: str
    customer_id: str
    payment_id: str
    shopping_id: str
    invoice_id: str
    bot_id: str


def given_ready_order(*, customer: str = "Ann Lee", bot: str = "Robo One") -> DeliveredOrder:
    """An order of ``customer`` whose list bot ``bot`` picked completely: the order is ready and invoiced."""
    store_id = stores.create_store(name="Books", location="Level 1")
    product_id = stores.add_product(store_id=store_id, name="Novel", description="", sku="N1", price=Decimal("9.99"))
    deliver_all()
    customer_id = customers.register_customer(name=customer, sms_number="555-0100")
    payment_id = payments.authorize_payment(customer_id=customer_id, amount=Decimal("100.00"))
    basket_id = baskets.start_basket(customer_id=customer_id)
    baskets.add_item(basket_id=basket_id, product_id=product_id, quantity=2)
    baskets.checkout_basket(basket_id=basket_id, payment_id=payment_id)
    deliver_all()
    order = ordering_models.Order.objects.get(customer_id=customer_id)
    bot_id = given_bot("bot-1", name=bot)
    depot.assign_shopping_list(list_id=order.shopping_id, bot_id=bot_id)
    depot.start_shopping(list_id=order.shopping_id)
    for item in depot_public.find_shopping_list(order.shopping_id).items:
        depot.pick_item(list_id=order.shopping_id, product_id=item.product_id, quantity=item.quantity)
    depot.complete_shopping_list(list_id=order.shopping_id)
    deliver_all()
    order.refresh_from_db()
    invoice = find_invoice(order.id)
    assert order.status == "ready" and invoice is not None, order.status
    return DeliveredOrder(order_id=order.id, customer_id=customer_id, payment_id=payment_id,
                          shopping_id=order.shopping_id, invoice_id=invoice.id, bot_id=bot_id)
