"""``manage.py audit``: clean after an order's whole life, and each invariant reports the breach made on purpose."""

import io
import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from baskets import services as baskets
from customers import services as customers
from depot import public as depot_public
from depot import services as depot
from depot.tests.conftest import given_bot
from eventstore import audit
from eventstore.models import DeadLetter, OutboxMessage, SagaInstance
from eventstore.testing import deliver_all
from ordering import models as ordering_models
from payments import models as payments_models
from payments import services as payments
from stores import services as stores

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_grace(settings):
    settings.AUDIT_GRACE_SECONDS = 0


def completed_order() -> tuple[str, str]:
    """An order taken through its whole life in-process: checkout, saga, a bot, ready, paid, completed."""
    store_id = stores.create_store(name="Books", location="Level 1")
    product_id = stores.add_product(store_id=store_id, name="Novel", description="", sku="N", price=Decimal("9.99"))
    deliver_all()
    customer_id = customers.register_customer(name="Ann", sms_number="555-0100")
    payment_id = payments.authorize_payment(customer_id=customer_id, amount=Decimal("50"))
    basket_id = baskets.start_basket(customer_id=customer_id)
    baskets.add_item(basket_id=basket_id, product_id=product_id, quantity=2)
    baskets.checkout_basket(basket_id=basket_id, payment_id=payment_id)
    deliver_all()
    list_id = depot_public.shopping_list_for_order(basket_id).id
    depot.assign_shopping_list(list_id=list_id, bot_id=given_bot("bot-1"))
    depot.start_shopping(list_id=list_id)
    depot.pick_item(list_id=list_id, product_id=product_id, quantity=2)
    depot.complete_shopping_list(list_id=list_id)
    deliver_all()
    payments.pay_invoice(invoice_id=basket_id)
    deliver_all()
    assert ordering_models.Order.objects.get(id=basket_id).status == "completed"
    OutboxMessage.objects.update(published_at=timezone.now())
    return basket_id, payment_id


def breached() -> set[str]:
    return {finding.check for finding in audit.run() if finding.breached}


def test_after_an_orders_whole_life_every_check_holds_and_the_command_exits_zero():
    completed_order()
    out = io.StringIO()
    call_command("audit", stdout=out)
    assert "10 checks, 0 breached" in out.getvalue()
    out = io.StringIO()
    call_command("audit", "--json", "--only", "money-adds-up,bots-and-lists-agree", stdout=out)
    assert [(f["check"], f["breach"]) for f in json.loads(out.getvalue())] == [
        ("bots-and-lists-agree", False), ("money-adds-up", False)]


def test_the_thorough_audit_finds_a_read_model_that_drifted_from_the_event_store_and_leaves_it_as_it_was():
    order_id, _ = completed_order()
    out = io.StringIO()
    call_command("audit", "--thorough", stdout=out)
    assert "11 checks, 0 breached" in out.getvalue() and "projection-drift" in out.getvalue()
    ordering_models.Order.objects.filter(id=order_id).update(total=0)
    [finding] = audit.run(["projection-drift"])
    assert finding.breached and "ordering.Order" in finding.detail
    assert ordering_models.Order.objects.get(id=order_id).total == 0


def test_a_breach_is_reported_by_its_check_and_the_command_exits_one():
    order_id, payment_id = completed_order()
    payments_models.Payment.objects.filter(id=payment_id).update(status="confirmed")
    assert breached() == {"money-adds-up"}
    with pytest.raises(SystemExit) as exit_status:
        call_command("audit", stdout=io.StringIO())
    assert exit_status.value.code == 1


@pytest.mark.parametrize("breach, check", [
    ("old unpublished outbox row", "outbox-published"),
    ("failed saga", "sagas-settled"),
    ("open dead letter", "dead-letters"),
    ("command without reply", "commands-answered"),
    ("checkout without order", "checkouts-ordered"),
    ("pending order without saga", "orders-settled"),
    ("completed order unpaid", "completed-orders-paid"),
    ("payment held for a cancelled order", "payments-follow-orders"),
    ("bot active without its list", "bots-and-lists-agree"),
])
def test_each_invariant_reports_its_breach(breach, check):
    order_id, payment_id = completed_order()
    assert breached() == set()
    {
        "old unpublished outbox row": lambda: OutboxMessage.objects.filter(
            position=OutboxMessage.objects.order_by("position").last().position).update(
            published_at=None, sent_at=timezone.now() - timedelta(minutes=5)),
        "failed saga": lambda: SagaInstance.objects.update(status="failed"),
        "open dead letter": lambda: DeadLetter.objects.create(
            consumer="depot-orders", message_id=str(uuid.uuid4()), payload={}, metadata={}, deliveries=5, error={}),
        "command without reply": lambda: _sql(
            "INSERT INTO eventstore_inbox (consumer, message_id, name, subject, payload, metadata, received_at)"
            " VALUES ('depot-commands', %s, 'x', 'x', '{}', '{\"COMMAND_REPLY_CHANNEL\": \"r\"}', clock_timestamp())",
            [str(uuid.uuid4())]),
        "checkout without order": lambda: _sql(
            "DELETE FROM eventstore_event WHERE stream_type = 'ordering.Order' AND stream_id = %s", [order_id]),
        "pending order without saga": lambda: ordering_models.Order.objects.filter(id=order_id).update(
            status="pending"),
        "completed order unpaid": lambda: (
            payments_models.Invoice.objects.filter(id=order_id).update(status="pending"),
            payments_models.Payment.objects.filter(id=payment_id).update(status="confirmed")),
        "payment held for a cancelled order": lambda: (
            ordering_models.Order.objects.filter(id=order_id).update(status="cancelled"),
            payments_models.Payment.objects.filter(id=payment_id).update(status="confirmed"),
            payments_models.Invoice.objects.filter(id=order_id).update(status="canceled")),
        "bot active without its list": lambda: _sql(
            "UPDATE depot_bot SET status = 'active', shopping_list_id = 'no-such-list'"),
    }[breach]()
    assert check in breached()


def _sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
