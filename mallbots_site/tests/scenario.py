"""A day at the mall, in-process through the real services and ``deliver_all``: every module's aggregates in
most of their states. Used by the rebuild tests and by the notifications and search tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from baskets import services as baskets
from customers import services as customers
from depot import public as depot_public
from depot import services as depot
from depot.tests.conftest import given_bot
from eventstore.testing import deliver_all
from ordering import services as ordering
from payments import services as payments
from stores import services as stores

D = Decimal


@dataclass
class Mall:
    """Ids of what ``a_day_at_the_mall`` created; ``orders`` maps a label to an order id."""

    books: str = ""
    toys: str = ""
    novel: str = ""
    atlas: str = ""
    robot: str = ""
    ann: str = ""
    bob: str = ""
    orders: dict[str, str] = field(default_factory=dict)


def checkout(customer_id: str, lines: list[tuple[str, int]], *, amount: str = "500.00",
             payment_customer: str | None = None) -> str:
    """Basket with ``lines`` (product id, quantity) checked out with a fresh authorization; returns the order id."""
    payment_id = payments.authorize_payment(customer_id=payment_customer or customer_id, amount=D(amount))
    basket_id = baskets.start_basket(customer_id=customer_id)
    for product_id, quantity in lines:
        baskets.add_item(basket_id=basket_id, product_id=product_id, quantity=quantity)
    baskets.checkout_basket(basket_id=basket_id, payment_id=payment_id)
    return basket_id


def shop(order_id: str, *, bot_id: str, picked: dict[str, int] | None = None) -> None:
    """The order's list assigned (to ``bot_id`` unless dispatch already gave it to a bot), started, picked (all,
    or ``picked``) and completed."""
    assign(order_id, bot_id=bot_id)
    shopping_list = depot_public.shopping_list_for_order(order_id)
    depot.start_shopping(list_id=shopping_list.id)
    for item in shopping_list.items:
        quantity = item.quantity if picked is None else picked.get(item.product_id, 0)
        if quantity:
            depot.pick_item(list_id=shopping_list.id, product_id=item.product_id, quantity=quantity)
        else:
            depot.report_item_unavailable(list_id=shopping_list.id, product_id=item.product_id)
    depot.complete_shopping_list(list_id=shopping_list.id)
    deliver_all()


def assign(order_id: str, *, bot_id: str) -> None:
    """The order's list, if still available, assigned to ``bot_id`` (registered and brought online)."""
    shopping_list = depot_public.shopping_list_for_order(order_id)
    if shopping_list.status == "available":
        given_bot(bot_id)
        depot.assign_shopping_list(list_id=shopping_list.id, bot_id=bot_id)


def pay(order_id: str) -> None:
    """Pay the order's invoice (invoice id = order id) and let ordering complete the order."""
    payments.pay_invoice(invoice_id=order_id)
    deliver_all()


def a_day_at_the_mall() -> Mall:
    """Stores and products (rebranded, repriced, one removed), two customers (one number changed), baskets
    open, cancelled and checked out, and orders: completed, ready, in progress, approved, cancelled by staff
    and rejected (payment too small)."""
    mall = Mall()
    mall.books = stores.create_store(name="Books", location="Level 1")
    mall.toys = stores.create_store(name="Toys", location="Level 2")
    mall.novel = stores.add_product(store_id=mall.books, name="Novel", description="", sku="N1", price=D("9.99"))
    mall.atlas = stores.add_product(store_id=mall.books, name="Atlas", description="", sku="A1", price=D("25.00"))
    mall.robot = stores.add_product(store_id=mall.toys, name="Robot", description="", sku="R1", price=D("40.00"))
    kite = stores.add_product(store_id=mall.toys, name="Kite", description="", sku="K1", price=D("5.00"))
    stores.rebrand_store(store_id=mall.toys, name="Toy Palace")
    stores.rebrand_product(product_id=mall.atlas, name="World Atlas", description="Maps")
    stores.increase_product_price(product_id=mall.robot, price=D("45.00"))
    stores.decrease_product_price(product_id=mall.novel, price=D("8.50"))
    mall.ann = customers.register_customer(name="Ann", sms_number="555-0100")
    mall.bob = customers.register_customer(name="Bob", sms_number="555-0200")
    customers.change_sms_number(customer_id=mall.ann, sms_number="555-0101")
    deliver_all()

    open_basket = baskets.start_basket(customer_id=mall.bob)
    baskets.add_item(basket_id=open_basket, product_id=kite, quantity=2)
    baskets.add_item(basket_id=open_basket, product_id=mall.novel, quantity=1)
    baskets.remove_item(basket_id=open_basket, product_id=kite, quantity=1)
    cancelled_basket = baskets.start_basket(customer_id=mall.bob)
    baskets.add_item(basket_id=cancelled_basket, product_id=mall.robot, quantity=1)
    baskets.cancel_basket(basket_id=cancelled_basket)
    stores.remove_product(product_id=kite)

    mall.orders["completed"] = checkout(mall.ann, [(mall.novel, 2), (mall.robot, 1)])
    mall.orders["ready"] = checkout(mall.bob, [(mall.atlas, 1), (mall.robot, 2)])
    mall.orders["in-progress"] = checkout(mall.ann, [(mall.atlas, 3)])
    mall.orders["approved"] = checkout(mall.bob, [(mall.novel, 1)])
    mall.orders["cancelled"] = checkout(mall.ann, [(mall.robot, 1)])
    mall.orders["rejected"] = checkout(mall.bob, [(mall.robot, 3)], amount="10.00")
    deliver_all()

    shop(mall.orders["completed"], bot_id="bot-1")
    pay(mall.orders["completed"])
    shop(mall.orders["ready"], bot_id="bot-2", picked={mall.atlas: 1, mall.robot: 1})
    assign(mall.orders["in-progress"], bot_id="bot-3")
    depot.start_shopping(list_id=depot_public.shopping_list_for_order(mall.orders["in-progress"]).id)
    ordering.cancel_order(order_id=mall.orders["cancelled"], reason="staff")
    deliver_all()
    return mall
