"""Django admin for payments: depot roles see payments and invoices, pay invoices through the service,
and see each aggregate's event history; other roles do not get in."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from eventstore.models import StoredEvent
from payments import models, services

pytestmark = pytest.mark.django_db


def login(client, role):
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(f"u-{role}", password=None, is_staff=True)
    user.groups.set(Group.objects.filter(name=role))
    client.force_login(user)
    return client


def invoice(order_id="o1", confirm=True) -> str:
    payment_id = services.authorize_payment(customer_id="c1", amount=Decimal("50"))
    if confirm:
        services.confirm_payment(payment_id=payment_id, order_id=order_id, customer_id="c1", amount=Decimal("40"))
    services.create_invoice(order_id=order_id, payment_id=payment_id, amount=Decimal("30"))
    return payment_id


@pytest.mark.parametrize("role,status", [("depot_staff", 200), ("depot_admin", 200), ("store_admin", 403)])
def test_lists_are_for_depot_roles(client, role, status):
    invoice()
    login(client, role)
    assert client.get("/admin/payments/payment/").status_code == status
    assert client.get("/admin/payments/invoice/").status_code == status


def test_change_pages_are_read_only_and_show_the_event_history(client):
    payment_id = invoice()
    services.pay_invoice(invoice_id="o1")
    login(client, "depot_staff")
    page = client.get(f"/admin/payments/payment/{payment_id}/change/").content.decode()
    assert "Event history" in page
    assert page.index("payments.PaymentAuthorized") < page.index("payments.PaymentConfirmed") < page.index(
        "payments.PaymentCaptured")
    invoice_page = client.get("/admin/payments/invoice/o1/change/").content.decode()
    assert "payments.InvoiceCreated" in invoice_page and "payments.InvoicePaid" in invoice_page
    assert client.get("/admin/payments/invoice/add/").status_code == 403
    assert client.post("/admin/payments/invoice/o1/delete/", {"post": "yes"}).status_code == 403
    assert models.Invoice.objects.filter(id="o1").exists()


def test_pay_invoice_action_pays_through_the_service_and_reports_refusals(client):
    payment_id = invoice("o1")
    invoice("o2", confirm=False)
    login(client, "depot_staff")
    response = client.post("/admin/payments/invoice/", {"action": "pay_invoices", "_selected_action": ["o1", "o2"]},
                           follow=True)
    page = response.content.decode()
    assert "Invoices paid: 1" in page and "the payment cannot be captured" in page
    assert models.Invoice.objects.get(id="o1").status == "paid"
    assert models.Invoice.objects.get(id="o2").status == "pending"
    assert models.Payment.objects.get(id=payment_id).status == "captured"
    actor = StoredEvent.objects.get(stream_type="payments.Invoice", stream_id="o1", version=2).metadata["actor"]
    assert actor == "staff:u-depot_staff"
