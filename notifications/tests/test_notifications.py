"""Notifications on real PostgreSQL with a real webhook SMS gateway (product.md F11, ADR 17): each trigger's
exact text to the current number, one per order and kind, none for rejections, retries of refused sends,
at most one send when the outcome is unknown or the sender dies, out-of-order events, resend, console
backend, admin and the gauge."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from customers import services as customers
from customers.contracts import CustomerRegistered, CustomerSmsChanged
from eventstore import codec, outbox
from eventstore.envelope import Envelope
from eventstore.errors import DomainError, NotFound
from eventstore.messaging import get_durable, handle
from eventstore.schema import to_dict
from eventstore.testing import deliver_all
from mallbots_site.tests.scenario import a_day_at_the_mall, checkout, shop
from notifications import domain, services, sms, tasks
from notifications.models import CustomerCache, Notification
from notifications.tests.webhook import CLOSE
from ordering import contracts as orders
from ordering import services as ordering

pytestmark = pytest.mark.django_db
D = Decimal


def received(order_id: str) -> str:
    return f"MallBots: we received your order {order_id}. We will text you when it is ready for pickup at the depot."


def ready(order_id: str, total: str) -> str:
    return f"MallBots: your order {order_id} is ready for pickup at the depot. Amount due: {total}."


def canceled(order_id: str) -> str:
    return f"MallBots: your order {order_id} has been canceled. Any payment authorization has been released."


def completed(order_id: str) -> str:
    return f"MallBots: thank you! Your order {order_id} is complete."


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    """Run what the code under test defers to after commit (the sends) at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def deliver(durable: str, message, *, version: int, aggregate_type: str = "ordering.Order"):
    """One hand-made message to ``durable`` as the consumer runner hands it over (inbox, one transaction)."""
    envelope = Envelope(id=str(uuid.uuid4()), name=message.message_name, subject=message.subject,
                        payload=codec.loads(codec.dumps(to_dict(message))),
                        metadata={"aggregate_type": aggregate_type, "aggregate_id": message.id,
                                  "aggregate_version": version}, sent_at="2026-11-22T10:00:00.000000Z")
    return handle(get_durable(durable), envelope)


def given_customer(customer_id: str = "c1", number: str = "555-0100") -> str:
    deliver("notifications-customers", CustomerRegistered(id=customer_id, name="Ann", sms_number=number), version=1,
            aggregate_type="customers.Customer")
    return customer_id


# ---------------------------------------------------------------- the triggers, end to end


def test_a_day_at_the_mall_texts_each_order_event_once_with_the_exact_texts(webhook, after_commit):
    with after_commit():
        mall = a_day_at_the_mall()
    o = mall.orders
    assert sorted(webhook.texts_to("555-0101")) == sorted([
        received(o["completed"]), ready(o["completed"], "62.00"), completed(o["completed"]),
        received(o["in-progress"]), received(o["cancelled"]), canceled(o["cancelled"])])
    assert sorted(webhook.texts_to("555-0200")) == sorted([
        received(o["ready"]), ready(o["ready"], "70.00"), received(o["approved"]), received(o["rejected"])])
    assert len(webhook.requests) == 10
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert not Notification.objects.filter(order_id=o["rejected"]).exclude(kind="created").exists()
    row = Notification.objects.get(order_id=o["completed"], kind="ready")
    assert (row.attempts, row.last_error, row.customer_id, row.sent_at is not None) == (1, "", mall.ann, True)


def test_the_number_is_the_customers_current_one(webhook, after_commit):
    with after_commit():
        mall = a_day_at_the_mall()
        customers.change_sms_number(customer_id=mall.ann, sms_number="555-0999")
        deliver_all()
        order_id = checkout(mall.ann, [(mall.novel, 1)])
        deliver_all()
    assert webhook.texts_to("555-0999") == [received(order_id)]


@pytest.mark.parametrize("total,text", [(D("10"), "10.00"), (D("49.95"), "49.95"), (D("0.5"), "0.50"),
                                        (D("1234567.1"), "1234567.10")])
def test_the_ready_text_has_the_total_with_exactly_two_decimals(total, text):
    assert domain.text("ready", order_id="o1", total=total) == ready("o1", text)


def test_a_rejection_is_not_texted(webhook, after_commit):
    given_customer()
    with after_commit():
        deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
        deliver("notifications-orders", orders.OrderRejected(id="o1", customer_id="c1", reason="no"), version=2)
    assert webhook.texts_to("555-0100") == [received("o1")]
    assert list(Notification.objects.values_list("kind", flat=True)) == ["created"]


def test_one_notification_per_order_and_kind_also_for_the_same_event_published_twice(webhook, after_commit):
    given_customer()
    with after_commit():
        for version in (1, 1, 2):
            deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=version)
        with transaction.atomic():
            outbox.publish(orders.OrderCanceled(id="o1", customer_id="c1"))
            outbox.publish(orders.OrderCanceled(id="o1", customer_id="c1"))
        deliver_all(modules=["notifications"])
    assert webhook.texts_to("555-0100") == [received("o1"), canceled("o1")]
    assert Notification.objects.count() == 2


def test_a_late_readied_after_canceled_texts_nothing(webhook, after_commit):
    given_customer()
    with after_commit():
        deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
        deliver("notifications-orders", orders.OrderCanceled(id="o1", customer_id="c1", reason="staff"), version=6)
        deliver("notifications-orders", orders.OrderReadied(id="o1", customer_id="c1", total=D("5")), version=5)
    assert webhook.texts_to("555-0100") == [received("o1"), canceled("o1")]
    assert not Notification.objects.filter(kind="ready").exists()


def test_a_customer_without_a_number_gives_a_failed_notification_and_no_send(webhook, after_commit):
    with after_commit():
        deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="nobody"), version=1)
    row = Notification.objects.get()
    assert (row.status, row.last_error, row.attempts, row.text) == ("failed", "the customer has no SMS number", 0,
                                                                    received("o1"))
    assert webhook.requests == []


# ---------------------------------------------------------------- retries


def test_a_refused_send_is_retried_by_the_schedule_until_it_is_sent(webhook, after_commit):
    given_customer()
    webhook.answers = [503]
    with after_commit():
        deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
    row = Notification.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error.startswith("HTTP 503: ") and "refused by the test gateway" in row.last_error
    assert tasks.retry_pending() == {"expired": 0, "sent": 1, "refused": 0, "unknown": 0}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    assert webhook.texts_to("555-0100") == [received("o1"), received("o1")]
    assert tasks.retry_pending() == {"expired": 0, "sent": 0, "refused": 0, "unknown": 0}
    assert len(webhook.requests) == 2


def test_a_gateway_that_does_not_listen_is_retried_too(settings, webhook):
    given_customer()
    deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
    settings.SMS_WEBHOOK_URL = "http://127.0.0.1:9/sms"
    assert tasks.retry_pending()["refused"] == 1
    row = Notification.objects.get()
    assert (row.status, row.attempts) == ("pending", 1) and row.last_error.startswith("ConnectError")
    settings.SMS_WEBHOOK_URL = webhook.url
    assert tasks.retry_pending()["sent"] == 1
    assert webhook.texts_to("555-0100") == [received("o1")]


def test_after_sms_max_attempts_refusals_the_notification_is_failed(settings, webhook):
    settings.SMS_MAX_ATTEMPTS = 3
    given_customer()
    deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
    webhook.answers = [500] * 10
    for _ in range(5):
        tasks.retry_pending()
    row = Notification.objects.get()
    assert (row.status, row.attempts, row.last_error[:8]) == ("failed", 3, "HTTP 500")
    assert len(webhook.requests) == 3


def test_when_the_gateway_may_have_taken_it_the_notification_fails_and_is_never_sent_again(webhook, after_commit):
    given_customer()
    webhook.answers = [CLOSE]
    with after_commit():
        deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
    row = Notification.objects.get()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("outcome of attempt 1 unknown (RemoteProtocolError")
    assert tasks.retry_pending() == {"expired": 0, "sent": 0, "refused": 0, "unknown": 0}
    assert len(webhook.requests) == 1


def test_a_sender_that_dies_between_send_and_commit_leaves_one_send_and_a_failed_row(webhook):
    """The crash, simulated in-process: claimed and sent, then the outcome is never recorded. (The same with a
    real consumer process killed by the gateway: ``test_processes``.)"""
    given_customer()
    deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
    row = Notification.objects.get()
    claimed = services._claim("id = %s", [row.pk])
    assert sms.send(claimed.sms_number, claimed.text).result == "sent"
    # the process is gone: nothing records the outcome
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sending", 1)
    assert services.retry_pending() == {"expired": 0, "sent": 0, "refused": 0, "unknown": 0}
    later = row.claimed_at + services.LEASE + services.LEASE / 10
    assert services.retry_pending(now=later)["expired"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "the sender stopped before recording it" in row.last_error and "not sent again" in row.last_error
    assert services.retry_pending(now=later)["expired"] == 0
    assert len(webhook.requests) == 1


def test_a_row_held_by_one_sender_is_not_sent_by_another(webhook):
    given_customer()
    deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
    row = Notification.objects.get()
    assert services._claim("id = %s", [row.pk]) is not None
    assert services.send_notification(notification_id=row.pk) is None
    assert webhook.requests == []


def test_the_sender_refuses_to_run_inside_a_transaction(webhook):
    """The claim must be committed before the SMS goes out."""
    from django.db import connection

    given_customer()
    deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
    atomic = transaction.atomic()
    atomic.__enter__()
    try:
        assert connection.in_atomic_block
        with pytest.raises(RuntimeError, match="durable"):
            services.send_notification(notification_id=Notification.objects.get().pk)
    finally:
        atomic.__exit__(None, None, None)
    assert webhook.requests == []


# ---------------------------------------------------------------- resend, console, cache


def test_resend_sends_a_sent_or_failed_notification_again_to_the_current_number(webhook, after_commit):
    given_customer()
    with after_commit():
        deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
    deliver("notifications-customers", CustomerSmsChanged(id="c1", sms_number="555-0777"), version=2,
            aggregate_type="customers.Customer")
    row = Notification.objects.get()
    with after_commit():
        services.resend_notification(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sms_number) == ("sent", 1, "555-0777")
    assert [(r["to"], r["text"]) for r in webhook.requests] == [("555-0100", received("o1")),
                                                               ("555-0777", received("o1"))]
    Notification.objects.filter(pk=row.pk).update(status="pending")
    with pytest.raises(DomainError, match="the notification is being sent"):
        services.resend_notification(notification_id=row.pk)
    with pytest.raises(NotFound, match="notification not found"):
        services.resend_notification(notification_id=row.pk + 1000)


def test_the_console_backend_logs_the_sms(settings, caplog, after_commit):
    settings.SMS_BACKEND = "console"
    given_customer()
    with caplog.at_level(logging.INFO, logger="mallbots.sms"), after_commit():
        deliver("notifications-orders", orders.OrderCompleted(id="o1", customer_id="c1"), version=7)
    assert [r.getMessage() for r in caplog.records if r.name == "mallbots.sms"] == [
        f"SMS to 555-0100: {completed('o1')}"]
    assert Notification.objects.get().status == "sent"


def test_the_customer_cache_keeps_the_newest_number_and_reads_misses_through_the_facade():
    given_customer("c1", "1")
    deliver("notifications-customers", CustomerSmsChanged(id="c1", sms_number="3"), version=3,
            aggregate_type="customers.Customer")
    deliver("notifications-customers", CustomerSmsChanged(id="c1", sms_number="2"), version=2,
            aggregate_type="customers.Customer")
    deliver("notifications-customers", CustomerRegistered(id="c1", name="Ann", sms_number="1"), version=1,
            aggregate_type="customers.Customer")
    assert (CustomerCache.objects.get(id="c1").sms_number, CustomerCache.objects.get(id="c1").version) == ("3", 3)
    real = customers.register_customer(name="Bob", sms_number="555-0200")
    customers.change_sms_number(customer_id=real, sms_number="555-0201")
    deliver("notifications-customers", CustomerSmsChanged(id=real, sms_number="555-0201"), version=2,
            aggregate_type="customers.Customer")
    cached = CustomerCache.objects.get(id=real)
    assert (cached.name, cached.sms_number, cached.version) == ("Bob", "555-0201", 2)


# ---------------------------------------------------------------- admin and metrics


def test_the_gauge_counts_notifications_by_status(client, webhook, after_commit):
    given_customer()
    webhook.answers = [500]
    with after_commit():
        deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
        deliver("notifications-orders", orders.OrderCreated(id="o2", customer_id="c1"), version=1)
        deliver("notifications-orders", orders.OrderCreated(id="o3", customer_id="nobody"), version=1)
    body = client.get("/metrics").content.decode()
    for status, count in {"pending": 1, "sending": 0, "sent": 1, "failed": 1}.items():
        assert f'mallbots_notifications{{status="{status}"}} {count}.0' in body


def test_depot_staff_see_the_list_and_resend_from_the_admin(client, webhook, after_commit):
    from access.testing import make_user

    given_customer()
    webhook.answers = [500]
    with after_commit():
        deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
    Notification.objects.update(status="failed")
    row = Notification.objects.get()
    client.force_login(make_user("stocker", "store_staff"))
    assert client.get("/admin/notifications/notification/").status_code == 403
    client.force_login(make_user("desk", "depot_staff"))
    page = client.get("/admin/notifications/notification/")
    assert page.status_code == 200 and b"HTTP 500" in page.content and b"o1" in page.content
    assert client.get(f"/admin/notifications/notification/{row.pk}/change/").status_code == 200
    with after_commit():
        response = client.post("/admin/notifications/notification/", {
            "action": "resend_notifications", "_selected_action": [row.pk]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)
    assert len(webhook.requests) == 2


def test_a_readied_order_through_the_real_modules_texts_the_delivered_total(webhook, after_commit):
    with after_commit():
        mall = a_day_at_the_mall()
        order_id = checkout(mall.bob, [(mall.atlas, 2), (mall.robot, 1)])
        deliver_all()
        shop(order_id, bot_id="bot-7", picked={mall.atlas: 1})
        ordering.cancel_order(order_id=order_id, reason="staff")
        deliver_all()
    assert webhook.texts_to("555-0200")[-3:] == [received(order_id), ready(order_id, "25.00"), canceled(order_id)]


@pytest.mark.django_db(transaction=True)
def test_an_order_event_costs_three_round_trips_and_its_text_two_more(webhook):
    """The handler: inbox row with the version guard, the customer's number, the notification with the commit;
    after the commit the claim and the outcome are one statement each (autocommit)."""
    from eventstore.tests.test_backend import sent

    given_customer()
    deliver("notifications-orders", orders.OrderCreated(id="o0", customer_id="c1"), version=1)
    with sent() as messages:
        deliver("notifications-orders", orders.OrderCreated(id="o1", customer_id="c1"), version=1)
    round_trips = [text for kind, text in messages if kind in ("Query", "Sync")]
    assert len(round_trips) == 5, messages
    assert round_trips[-2].startswith("UPDATE notifications_notification SET status")
    assert Notification.objects.get(order_id="o1").status == "sent" and len(webhook.requests) == 2
