"""Basket state machine (product.md §6.4): every transition and text, table-driven."""

import datetime as dt
from decimal import Decimal

import pytest

from baskets.domain import (
    CANNOT_CANCEL, CANNOT_MODIFY, CHECKOUT_CANNOT_MODIFY, CHECKOUT_NO_ITEMS, CHECKOUT_PAYMENT_BLANK,
    CUSTOMER_ID_BLANK, QUANTITY_NEGATIVE, QUANTITY_ZERO, STORE_NOT_PARTICIPATING, Basket, BasketCanceled,
    BasketCheckedOut, BasketItemAdded, BasketItemRemoved, BasketLine, BasketStarted, ProductChoice,
)
from eventstore.errors import DomainError

D = Decimal
APPLE = ProductChoice(store_id="s1", product_id="apple", store_name="Fruit", product_name="Apple",
                      price=D("1.25"), store_participating=True)
PEAR = ProductChoice(store_id="s2", product_id="pear", store_name="Greens", product_name="Pear",
                     price=D("2.10"), store_participating=True)
T0 = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.timezone.utc)
IDLE = dt.timedelta(minutes=30)


def basket_in(status: str, *choices: ProductChoice) -> Basket:
    basket = Basket.start("b1", customer_id="c1")
    for choice in choices:
        basket.add_item(choice, 2)
    if status == "canceled":
        basket.cancel()
    if status == "checked_out":
        basket.checkout("pay-1")
    basket.pending = []
    return basket


def refused(fn, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as error:
        fn(*args, **kwargs)
    return error.value.message


@pytest.mark.parametrize("customer_id", ["", "   "])
def test_start_needs_a_customer_id(customer_id):
    assert refused(Basket.start, "b1", customer_id=customer_id) == CUSTOMER_ID_BLANK


def test_start_opens_an_empty_basket_for_the_trimmed_customer():
    basket = Basket.start("b1", customer_id=" c1 ")
    assert basket.pending == [BasketStarted(customer_id="c1")]
    assert (basket.status, basket.customer_id, basket.lines, basket.total, basket.payment_id) == ("open", "c1", [],
                                                                                                  D("0.00"), "")


@pytest.mark.parametrize("status,quantity,participating,outcome", [
    ("open", 3, True, "added"),
    ("open", -1, True, QUANTITY_NEGATIVE),
    ("open", -1, False, QUANTITY_NEGATIVE),
    ("open", 0, True, QUANTITY_ZERO),
    ("open", 0, False, QUANTITY_ZERO),
    ("open", 1, False, STORE_NOT_PARTICIPATING),
    ("canceled", 3, True, CANNOT_MODIFY),
    ("canceled", -1, False, CANNOT_MODIFY),
    ("checked_out", 0, False, CANNOT_MODIFY),
    ("checked_out", 3, True, CANNOT_MODIFY),
])
def test_add_item_in_every_state_with_checks_in_order(status, quantity, participating, outcome):
    basket = basket_in(status, PEAR)
    choice = ProductChoice(**{**APPLE.__dict__, "store_participating": participating})
    if outcome != "added":
        assert refused(basket.add_item, choice, quantity) == outcome
        assert basket.pending == [] and basket.status == status
        return
    basket.add_item(choice, quantity)
    assert basket.pending == [BasketItemAdded(store_id="s1", product_id="apple", store_name="Fruit",
                                              product_name="Apple", price=D("1.25"), quantity=3)]
    assert [line.product_id for line in basket.lines] == ["pear", "apple"]
    assert basket.total == D("4.20") + D("3.75")


def test_adding_a_product_again_sums_the_quantity_and_keeps_the_first_names_and_price():
    basket = basket_in("open", APPLE)
    renamed = ProductChoice(store_id="s1", product_id="apple", store_name="Fruit & Co", product_name="Red apple",
                            price=D("9.99"), store_participating=True)
    basket.add_item(renamed, 3)
    assert basket.pending == [BasketItemAdded(store_id="s1", product_id="apple", store_name="Fruit",
                                              product_name="Apple", price=D("1.25"), quantity=3)]
    assert basket.lines == [BasketLine(store_id="s1", product_id="apple", store_name="Fruit", product_name="Apple",
                                       price=D("1.25"), quantity=5)]
    assert basket.total == D("6.25")


@pytest.mark.parametrize("status,product_id,quantity,outcome,remaining", [
    ("open", "apple", 1, BasketItemRemoved(product_id="apple", quantity=1), {"apple": 1, "pear": 2}),
    ("open", "apple", 2, BasketItemRemoved(product_id="apple", quantity=2), {"pear": 2}),
    ("open", "apple", 5, BasketItemRemoved(product_id="apple", quantity=5), {"pear": 2}),
    ("open", "kiwi", 1, None, {"apple": 2, "pear": 2}),
    ("open", "apple", -1, QUANTITY_NEGATIVE, None),
    ("open", "kiwi", -1, QUANTITY_NEGATIVE, None),
    ("open", "apple", 0, QUANTITY_ZERO, None),
    ("canceled", "apple", 1, CANNOT_MODIFY, None),
    ("canceled", "apple", 0, CANNOT_MODIFY, None),
    ("checked_out", "apple", -1, CANNOT_MODIFY, None),
])
def test_remove_item_in_every_state_with_checks_in_order(status, product_id, quantity, outcome, remaining):
    basket = basket_in(status, APPLE, PEAR)
    if isinstance(outcome, str):
        assert refused(basket.remove_item, product_id, quantity) == outcome
        assert basket.pending == []
        return
    basket.remove_item(product_id, quantity)
    assert basket.pending == ([outcome] if outcome else [])
    assert {line.product_id: line.quantity for line in basket.lines} == remaining


def test_removed_then_readded_product_goes_to_the_end_with_its_new_price():
    basket = basket_in("open", APPLE, PEAR)
    basket.remove_item("apple", 2)
    basket.add_item(ProductChoice(**{**APPLE.__dict__, "price": D("1.50")}), 1)
    assert [(line.product_id, line.price, line.quantity) for line in basket.lines] == [
        ("pear", D("2.10"), 2), ("apple", D("1.50"), 1)]


@pytest.mark.parametrize("status,outcome", [
    ("open", BasketCanceled(reason="customer")),
    ("canceled", CANNOT_CANCEL),
    ("checked_out", CANNOT_CANCEL),
])
def test_cancel_in_every_state(status, outcome):
    basket = basket_in(status, APPLE)
    if isinstance(outcome, str):
        assert refused(basket.cancel) == outcome
        assert basket.pending == []
        return
    basket.cancel()
    assert basket.pending == [outcome]
    assert (basket.status, basket.lines, basket.total) == ("canceled", [], D("0.00"))


@pytest.mark.parametrize("status,idle,expired", [
    ("open", dt.timedelta(minutes=30), True),
    ("open", dt.timedelta(hours=5), True),
    ("open", dt.timedelta(minutes=29, seconds=59), False),
    ("canceled", dt.timedelta(hours=5), False),
    ("checked_out", dt.timedelta(hours=5), False),
])
def test_expire_in_every_state(status, idle, expired):
    basket = basket_in(status, APPLE)
    assert basket.expire(now=T0 + idle, last_activity=T0, idle_after=IDLE) is expired
    assert basket.pending == ([BasketCanceled(reason="abandoned")] if expired else [])
    assert basket.status == ("canceled" if expired else status)
    if expired:
        assert basket.lines == []


@pytest.mark.parametrize("status,items,payment_id,outcome", [
    ("open", True, "pay-9", BasketCheckedOut(payment_id="pay-9")),
    ("open", True, " pay-9 ", BasketCheckedOut(payment_id="pay-9")),
    ("open", False, "pay-9", CHECKOUT_NO_ITEMS),
    ("open", False, "", CHECKOUT_NO_ITEMS),
    ("open", True, "  ", CHECKOUT_PAYMENT_BLANK),
    ("canceled", False, "", CHECKOUT_CANNOT_MODIFY),
    ("checked_out", True, "pay-9", CHECKOUT_CANNOT_MODIFY),
])
def test_checkout_in_every_state_with_checks_in_order(status, items, payment_id, outcome):
    basket = basket_in(status, *([APPLE] if items else []))
    if isinstance(outcome, str):
        assert refused(basket.checkout, payment_id) == outcome
        assert basket.pending == []
        return
    basket.checkout(payment_id)
    assert basket.pending == [outcome]
    assert (basket.status, basket.payment_id) == ("checked_out", "pay-9")
    assert [line.product_id for line in basket.lines] == ["apple"]


def test_snapshot_state_round_trips_lines_in_order():
    basket = basket_in("open", PEAR, APPLE)
    restored = Basket("b1")
    restored.restore_state(basket.snapshot_state())
    assert (restored.customer_id, restored.status, restored.payment_id, restored.lines) == (
        "c1", "open", "", basket.lines)
