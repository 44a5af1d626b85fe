"""Payment and Invoice state machines (product.md §6.8, §6.9): every transition and text, table-driven."""

from decimal import Decimal

import pytest

from eventstore.errors import DomainError
from payments.domain import (
    AMOUNT_NOT_POSITIVE, AMOUNT_TOO_SMALL, CANNOT_CAPTURE, CANNOT_CONFIRM, CUSTOMER_ID_BLANK,
    INVOICE_CANNOT_BE_PAID, OTHER_CUSTOMER, Invoice, InvoiceCanceled, InvoiceCreated, InvoicePaid,
    InvoiceRefundRequired, Payment, PaymentAuthorized, PaymentCaptured, PaymentConfirmed, PaymentReleased,
)

D = Decimal


def payment_in(status: str, amount: str = "50.00") -> Payment:
    """A payment of customer c1 in ``status``; confirmed/captured/released for order o1."""
    payment = Payment.authorize("p1", customer_id="c1", amount=D(amount))
    if status in ("confirmed", "captured"):
        payment.confirm(order_id="o1", customer_id="c1", amount=D("40.00"))
    if status == "captured":
        payment.capture(invoice_id="o1", order_id="o1", amount=D("30.00"))
    if status == "released":
        payment.release(order_id="o1", customer_id="c1")
    assert payment.status == status
    payment.pending = []
    return payment


def invoice_in(status: str, refund_required: bool = False) -> Invoice:
    invoice = Invoice.create("o1", order_id="o1", payment_id="p1", amount=D("30"))
    if status == "paid":
        invoice.pay()
    if status == "canceled":
        invoice.cancel()
    if refund_required:
        invoice.cancel()
    invoice.pending = []
    return invoice


@pytest.mark.parametrize("customer_id,amount,error", [
    ("", D("10"), CUSTOMER_ID_BLANK),
    ("   ", D("10"), CUSTOMER_ID_BLANK),
    ("", D("0"), CUSTOMER_ID_BLANK),
    ("c1", D("0"), AMOUNT_NOT_POSITIVE),
    ("c1", D("-5"), AMOUNT_NOT_POSITIVE),
    ("c1", D("0.004"), AMOUNT_NOT_POSITIVE),
])
def test_given_bad_input_when_authorizing_then_refused_in_check_order(customer_id, amount, error):
    with pytest.raises(DomainError) as refused:
        Payment.authorize("p1", customer_id=customer_id, amount=amount)
    assert refused.value.message == error


def test_given_customer_and_amount_when_authorizing_then_authorized_with_trimmed_customer_and_money():
    payment = Payment.authorize("p1", customer_id="  c1 ", amount=D("21.689999999999998"))
    assert payment.pending == [PaymentAuthorized(customer_id="c1", amount=D("21.69"))]
    assert (payment.status, payment.customer_id, payment.amount, payment.order_id) == ("authorized", "c1",
                                                                                        D("21.69"), "")


@pytest.mark.parametrize("status,order_id,customer_id,amount,outcome", [
    ("authorized", "o2", "c1", "50.00", PaymentConfirmed(order_id="o2", amount=D("50.00"))),
    ("authorized", "o2", "c1", "10", PaymentConfirmed(order_id="o2", amount=D("10.00"))),
    ("authorized", "o2", "c2", "10", OTHER_CUSTOMER),
    ("authorized", "o2", "c2", "99", OTHER_CUSTOMER),
    ("authorized", "o2", "c1", "50.01", AMOUNT_TOO_SMALL),
    ("confirmed", "o1", "c1", "40", None),
    ("confirmed", "o1", "c2", "99", None),
    ("confirmed", "o2", "c1", "40", CANNOT_CONFIRM),
    ("captured", "o1", "c1", "40", CANNOT_CONFIRM),
    ("captured", "o2", "c1", "40", CANNOT_CONFIRM),
    ("released", "o1", "c1", "40", CANNOT_CONFIRM),
    ("released", "o2", "c2", "99", CANNOT_CONFIRM),
])
def test_confirm_in_every_state(status, order_id, customer_id, amount, outcome):
    payment = payment_in(status)
    if isinstance(outcome, str):
        with pytest.raises(DomainError) as refused:
            payment.confirm(order_id=order_id, customer_id=customer_id, amount=D(amount))
        assert refused.value.message == outcome
        assert payment.pending == [] and payment.status == status
    else:
        changed = payment.confirm(order_id=order_id, customer_id=customer_id, amount=D(amount))
        assert payment.pending == ([outcome] if outcome else [])
        assert changed is bool(outcome)
        assert payment.status == "confirmed"
        assert payment.order_id == (order_id if outcome else "o1")


@pytest.mark.parametrize("status,order_id,outcome", [
    ("authorized", "o1", CANNOT_CAPTURE),
    ("confirmed", "o1", PaymentCaptured(invoice_id="o1", amount=D("30.00"))),
    ("confirmed", "o2", CANNOT_CAPTURE),
    ("captured", "o1", CANNOT_CAPTURE),
    ("released", "o1", CANNOT_CAPTURE),
])
def test_capture_in_every_state(status, order_id, outcome):
    payment = payment_in(status)
    if isinstance(outcome, str):
        with pytest.raises(DomainError) as refused:
            payment.capture(invoice_id=order_id, order_id=order_id, amount=D("30"))
        assert refused.value.message == outcome
        assert payment.pending == []
    else:
        payment.capture(invoice_id=order_id, order_id=order_id, amount=D("30"))
        assert payment.pending == [outcome]
        assert (payment.status, payment.captured_amount, payment.invoice_id) == ("captured", D("30.00"), "o1")


@pytest.mark.parametrize("status,order_id,customer_id,released", [
    ("authorized", "o9", "c1", True),
    ("authorized", "o9", "c2", False),
    ("confirmed", "o1", "c1", True),
    ("confirmed", "o1", "c2", False),
    ("confirmed", "o2", "c1", False),
    ("captured", "o1", "c1", False),
    ("released", "o1", "c1", False),
])
def test_release_in_every_state(status, order_id, customer_id, released):
    payment = payment_in(status)
    assert payment.release(order_id=order_id, customer_id=customer_id) is released
    assert payment.pending == ([PaymentReleased(order_id=order_id)] if released else [])
    assert payment.status == ("released" if released else status)


def test_snapshot_state_round_trips_a_payment():
    payment = payment_in("captured")
    restored = Payment("p1")
    restored.restore_state(payment.snapshot_state())
    assert vars(restored) | {"pending": [], "version": 0} == vars(payment) | {"version": 0}


def test_invoice_is_created_pending_with_money_amount():
    invoice = Invoice.create("o1", order_id="o1", payment_id="p1", amount=D("12.345"))
    assert invoice.pending == [InvoiceCreated(order_id="o1", payment_id="p1", amount=D("12.35"))]
    assert (invoice.status, invoice.refund_required, invoice.amount) == ("pending", False, D("12.35"))


@pytest.mark.parametrize("status,refund,outcome", [
    ("pending", False, InvoicePaid()),
    ("paid", False, INVOICE_CANNOT_BE_PAID),
    ("paid", True, INVOICE_CANNOT_BE_PAID),
    ("canceled", False, INVOICE_CANNOT_BE_PAID),
])
def test_pay_invoice_in_every_state(status, refund, outcome):
    invoice = invoice_in(status, refund)
    if isinstance(outcome, str):
        with pytest.raises(DomainError) as refused:
            invoice.pay()
        assert refused.value.message == outcome
        assert invoice.pending == []
    else:
        invoice.pay()
        assert invoice.pending == [outcome] and invoice.status == "paid"


@pytest.mark.parametrize("status,refund,event,after", [
    ("pending", False, InvoiceCanceled(), ("canceled", False)),
    ("paid", False, InvoiceRefundRequired(), ("paid", True)),
    ("paid", True, None, ("paid", True)),
    ("canceled", False, None, ("canceled", False)),
])
def test_cancel_invoice_in_every_state(status, refund, event, after):
    invoice = invoice_in(status, refund)
    assert invoice.cancel() is (event is not None)
    assert invoice.pending == ([event] if event else [])
    assert (invoice.status, invoice.refund_required) == after
