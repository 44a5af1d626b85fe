"""The Order state machine (product.md §6.5), table-driven: every transition and every text."""

from decimal import Decimal

import pytest

from eventstore.errors import DomainError, RetryLater
from ordering import domain as d

ITEM = {"product_id": "p1", "store_id": "s1", "store_name": "S", "product_name": "P", "price": "9.99", "quantity": 2}
EVENT_NAMES = {
    d.OrderApproved: "approved", d.OrderRejected: "rejected", d.OrderStarted: "in-progress",
    d.OrderReadied: "ready", d.OrderCanceled: "cancelled", d.OrderCompleted: "completed",
}


def order_in(status: str) -> d.Order:
    order = d.Order.create("o1", customer_id="c1", payment_id="pay1",
                           items=[ITEM, {**ITEM, "product_id": "p2", "price": "1.00", "quantity": 1}])
    path = {
        d.PENDING: [], d.APPROVED: [lambda o: o.approve("sl1")],
        d.IN_PROGRESS: [lambda o: o.approve("sl1"), lambda o: o.start("b1")],
        d.READY: [lambda o: o.approve("sl1"), lambda o: o.ready_from_list({"p1": 1})],
        d.COMPLETED: [lambda o: o.approve("sl1"), lambda o: o.ready_from_list({"p1": 1}),
                      lambda o: o.complete_from_invoice("o1")],
        d.REJECTED: [lambda o: o.reject("nope")],
        d.CANCELLED: [lambda o: o.cancel(d.CUSTOMER, invoice_paid=False)],
    }[status]
    for step in path:
        step(order)
    assert order.status == status
    order.pending = []
    return order


ALLOWED, SAME, IGNORE, RETRY = "allowed", "same", "ignore", "retry"

TABLE = {
    "approve": (lambda o: o.approve("sl1"), {
        d.PENDING: (ALLOWED, d.APPROVED), d.APPROVED: SAME, d.IN_PROGRESS: d.E5, d.READY: d.E5,
        d.COMPLETED: d.E5, d.REJECTED: d.E5, d.CANCELLED: d.E5}),
    "reject": (lambda o: o.reject("why"), {
        d.PENDING: (ALLOWED, d.REJECTED), d.APPROVED: d.E6, d.IN_PROGRESS: d.E6, d.READY: d.E6,
        d.COMPLETED: d.E6, d.REJECTED: SAME, d.CANCELLED: SAME}),
    "start": (lambda o: o.start("b1"), {
        d.PENDING: RETRY, d.APPROVED: (ALLOWED, d.IN_PROGRESS), d.IN_PROGRESS: IGNORE, d.READY: IGNORE,
        d.COMPLETED: IGNORE, d.REJECTED: IGNORE, d.CANCELLED: IGNORE}),
    "ready_from_list": (lambda o: o.ready_from_list({"p1": 2}), {
        d.PENDING: RETRY, d.APPROVED: (ALLOWED, d.READY), d.IN_PROGRESS: (ALLOWED, d.READY), d.READY: IGNORE,
        d.COMPLETED: IGNORE, d.REJECTED: IGNORE, d.CANCELLED: IGNORE}),
    "ready_by_staff": (lambda o: o.ready_by_staff({"p1": 2}), {
        d.PENDING: d.E7, d.APPROVED: (ALLOWED, d.READY), d.IN_PROGRESS: (ALLOWED, d.READY), d.READY: d.E7,
        d.COMPLETED: d.E7, d.REJECTED: d.E7, d.CANCELLED: d.E7}),
    "complete_from_invoice": (lambda o: o.complete_from_invoice("o1"), {
        d.PENDING: IGNORE, d.APPROVED: IGNORE, d.IN_PROGRESS: IGNORE, d.READY: (ALLOWED, d.COMPLETED),
        d.COMPLETED: IGNORE, d.REJECTED: IGNORE, d.CANCELLED: IGNORE}),
    "complete_by_staff": (lambda o: o.complete_by_staff(invoice_paid=True), {
        d.PENDING: d.E8, d.APPROVED: d.E8, d.IN_PROGRESS: d.E8, d.READY: (ALLOWED, d.COMPLETED),
        d.COMPLETED: d.E8, d.REJECTED: d.E8, d.CANCELLED: d.E8}),
    "cancel": (lambda o: o.cancel(d.STAFF, invoice_paid=False), {
        d.PENDING: (ALLOWED, d.CANCELLED), d.APPROVED: (ALLOWED, d.CANCELLED),
        d.IN_PROGRESS: (ALLOWED, d.CANCELLED), d.READY: (ALLOWED, d.CANCELLED),
        d.COMPLETED: d.E4, d.REJECTED: d.E4, d.CANCELLED: d.E4}),
    "cancel_for_list": (lambda o: o.cancel_for_list(), {
        d.PENDING: RETRY, d.APPROVED: (ALLOWED, d.CANCELLED), d.IN_PROGRESS: (ALLOWED, d.CANCELLED),
        d.READY: IGNORE, d.COMPLETED: IGNORE, d.REJECTED: IGNORE, d.CANCELLED: IGNORE}),
}

CASES = [(command, status) for command, (_, row) in TABLE.items() for status in d.STATUSES]


@pytest.mark.parametrize("command,status", CASES)
def test_state_machine(command, status):
    act, row = TABLE[command]
    expected = row[status]
    order = order_in(status)
    if expected == RETRY:
        with pytest.raises(RetryLater):
            act(order)
        assert order.pending == []
    elif expected in (SAME, IGNORE):
        act(order)
        assert order.pending == [] and order.status == status
    elif isinstance(expected, tuple):
        act(order)
        assert order.status == expected[1] and len(order.pending) == 1
    else:
        with pytest.raises(DomainError) as error:
            act(order)
        assert error.value.message == expected and order.pending == []


@pytest.mark.parametrize("customer,payment,items,text", [
    ("c", "p", [], d.E1),
    (" ", "p", [ITEM], d.E2),
    ("c", "", [ITEM], d.E3),
    ("c", "p", [{**ITEM, "product_id": " "}], d.E11),
    ("c", "p", [{**ITEM, "store_id": ""}], d.E12),
    ("c", "p", [{**ITEM, "quantity": -1}], d.E13),
    ("c", "p", [{**ITEM, "quantity": 0}], d.E14),
    ("c", "p", [{**ITEM, "price": "-0.01"}], d.E15),
])
def test_create_validation_in_order(customer, payment, items, text):
    with pytest.raises(DomainError, match=text):
        d.Order.create("o", customer_id=customer, payment_id=payment, items=items)


def test_create_merges_lines_of_one_product_keeping_first_price_and_names():
    order = d.Order.create("o", customer_id="c", payment_id="p", items=[
        ITEM, {**ITEM, "price": "1.00", "product_name": "other", "quantity": 3},
        {**ITEM, "product_id": "p9", "price": "21.689999999999998", "quantity": 1}])
    assert [(i.product_id, i.quantity, i.price, i.product_name) for i in order.items] == [
        ("p1", 5, Decimal("9.99"), "P"), ("p9", 1, Decimal("21.69"), "P")]
    assert order.total == Decimal("71.64")


def test_ready_keeps_only_delivered_items_and_recomputes_total():
    order = order_in(d.IN_PROGRESS)
    order.ready_from_list({"p1": 1, "p2": 0})
    [event] = order.pending
    assert [(i.product_id, i.quantity) for i in event.items] == [("p1", 1)]
    assert event.total == Decimal("9.99") == order.total


def test_nothing_picked_cancels_with_items_unavailable():
    order = order_in(d.APPROVED)
    order.ready_from_list({})
    assert order.status == d.CANCELLED and order.reason == d.ITEMS_UNAVAILABLE


def test_staff_ready_needs_a_completed_list_and_staff_complete_a_paid_invoice():
    with pytest.raises(DomainError, match=d.E9):
        order_in(d.APPROVED).ready_by_staff(None)
    with pytest.raises(DomainError, match=d.E10):
        order_in(d.READY).complete_by_staff(invoice_paid=False)


def test_cancel_refused_once_the_invoice_is_paid():
    with pytest.raises(DomainError, match=d.E4):
        order_in(d.READY).cancel(d.CUSTOMER, invoice_paid=True)
