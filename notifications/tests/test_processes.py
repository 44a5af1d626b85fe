"""Notifications and search through real processes: ``run_relay`` and ``run_consumers --modules
notifications,search`` on the test database and NATS, with a real webhook SMS gateway (ADR 17).

The crash test has the gateway SIGKILL the consumer process while it waits for the answer to its POST: the
SMS reached the gateway, the outcome was never committed. Neither the redelivered order event nor the
retry schedule sends it again.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers import services as customers
from eventstore.tests import processes
from notifications import services as notifications
from notifications.models import CustomerCache, Notification
from notifications.tests.webhook import WebhookServer
from ordering import services as ordering
from search import selectors as search_selectors
from search.models import Order as SearchOrder
from stores import services as stores

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.subprocess]

DUPLICATE = r"consumer=notifications-orders name=ordersapi.OrderCreated message_id=\S+ outcome=duplicate"


@pytest.fixture
def gateway():
    server = WebhookServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def env(fresh_stream, gateway):
    return processes.subprocess_env(SMS_BACKEND="webhook", SMS_WEBHOOK_URL=gateway.url)


def given_order(customer_id: str) -> str:
    store_id = stores.create_store(name="Books", location="Level 1")
    product_id = stores.add_product(store_id=store_id, name="Novel", description="", sku="N1", price=Decimal("9.99"))
    return ordering.create_order(customer_id=customer_id, payment_id="payment-1", items=[
        {"product_id": product_id, "store_id": store_id, "store_name": "Books", "product_name": "Novel",
         "price": Decimal("9.99"), "quantity": 5}])


def test_orders_are_texted_and_searchable_through_relay_and_consumers(env, gateway, tmp_path):
    with processes.run_command("run_relay", env=env, log_path=tmp_path / "relay.log"), \
            processes.run_command("run_consumers", "--modules", "notifications,search", env=env,
                                  log_path=tmp_path / "consumers.log"):
        customer_id = customers.register_customer(name="Ann", sms_number="555-0100")
        customers.change_sms_number(customer_id=customer_id, sms_number="555-0101")
        processes.wait_until(lambda: CustomerCache.objects.filter(id=customer_id, sms_number="555-0101").exists(),
                             30, "the new number in the cache (its durable is not the orders' one)")
        order_id = given_order(customer_id)
        processes.wait_until(lambda: len(gateway.requests) == 1, 30, "the first SMS")
        ordering.cancel_order(order_id=order_id, reason="customer")
        processes.wait_until(lambda: len(gateway.requests) == 2, 30, "the second SMS")
        processes.wait_until(
            lambda: SearchOrder.objects.filter(order_id=order_id, status="cancelled").exists(), 30, "search row")
        row = search_selectors.find_order(order_id)
    assert gateway.requests == [
        {"to": "555-0101", "text": f"MallBots: we received your order {order_id}. We will text you when it is "
                                   "ready for pickup at the depot."},
        {"to": "555-0101", "text": f"MallBots: your order {order_id} has been canceled. Any payment authorization "
                                   "has been released."}]
    assert set(Notification.objects.values_list("kind", "status")) == {("created", "sent"), ("canceled", "sent")}
    assert (row.customer_name, row.total, row.items[0]["product_name"], row.items[0]["store_name"]) == (
        "Ann", Decimal("49.95"), "Novel", "Books")


def test_a_consumer_killed_between_send_and_commit_never_sends_twice(env, gateway, tmp_path):
    customer_id = customers.register_customer(name="Ann", sms_number="555-0100")
    with processes.run_command("run_relay", env=env, log_path=tmp_path / "relay.log"):
        with processes.run_command("run_consumers", "--modules", "notifications", env=env,
                                   log_path=tmp_path / "killed.log") as doomed:
            gateway.on_request = lambda body: doomed.kill()
            order_id = given_order(customer_id)
            processes.wait_until(lambda: not doomed.running, 30, "the gateway to kill the consumer")
        gateway.on_request = None
        row = Notification.objects.get(order_id=order_id)
        assert (row.kind, row.status, row.attempts, len(gateway.requests)) == ("created", "sending", 1, 1)

        with processes.run_command("run_consumers", "--modules", "notifications", env=env,
                                   log_path=tmp_path / "restarted.log") as restarted:
            restarted.wait_for_log(DUPLICATE, timeout=30)
            assert notifications.retry_pending() == {"expired": 0, "sent": 0, "refused": 0, "unknown": 0}
            row.refresh_from_db()
            assert (row.status, len(gateway.requests)) == ("sending", 1)

            later = row.claimed_at + notifications.LEASE * 1.1
            assert notifications.retry_pending(now=later)["expired"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "may have been sent" in row.last_error
    assert len(gateway.requests) == 1
