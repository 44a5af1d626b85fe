"""Django admin for customers: depot roles only, changes through services, event history."""

import pytest

from access.testing import make_user
from customers import models, services
from eventstore.models import StoredEvent

pytestmark = pytest.mark.django_db


def login(client, *roles):
    client.force_login(make_user("-".join(roles) or "nobody", *roles))
    return client


def test_depot_staff_sees_customers_and_changes_the_sms_number(client):
    login(client, "depot_staff")
    customer_id = services.register_customer(name="Ann", sms_number="1")
    assert "Ann" in client.get("/admin/customers/customer/").content.decode()
    change = f"/admin/customers/customer/{customer_id}/change/"
    page = client.get(change).content.decode()
    assert 'name="enabled"' not in page and "customers.CustomerRegistered" in page
    assert client.post(change, {"sms_number": " 2 ", "_save": "Save"}).status_code == 302
    assert client.post(change, {"sms_number": " ", "_save": "Save"}).content.decode().count(
        "the SMS number cannot be blank") == 1
    row = models.Customer.objects.get(pk=customer_id)
    assert (row.sms_number, row.enabled, row.version) == ("2", True, 2)
    assert StoredEvent.objects.get(stream_id=customer_id, version=2).metadata["actor"] == "staff:depot_staff"
    assert "customers.CustomerSmsChanged" in client.get(change).content.decode()


def test_depot_staff_cannot_enable_or_disable(client):
    login(client, "depot_staff")
    customer_id = services.register_customer(name="Ann", sms_number="1")
    assert "disable_customers" not in client.get("/admin/customers/customer/").content.decode()
    client.post("/admin/customers/customer/", {"action": "disable_customers", "_selected_action": [customer_id]})
    assert models.Customer.objects.get(pk=customer_id).enabled is True


def test_depot_admin_disables_and_enables_by_action_and_form(client):
    login(client, "depot_admin")
    customer_id = services.register_customer(name="Ann", sms_number="1")
    client.post("/admin/customers/customer/", {"action": "disable_customers", "_selected_action": [customer_id]})
    assert models.Customer.objects.get(pk=customer_id).enabled is False
    response = client.post("/admin/customers/customer/", {"action": "disable_customers",
                                                          "_selected_action": [customer_id]}, follow=True)
    assert "the customer is already disabled" in response.content.decode()
    change = f"/admin/customers/customer/{customer_id}/change/"
    assert client.post(change, {"sms_number": "1", "enabled": "on", "_save": "Save"}).status_code == 302
    assert models.Customer.objects.get(pk=customer_id).version == 3


def test_depot_staff_registers_a_customer_with_domain_texts(client):
    login(client, "depot_staff")
    response = client.post("/admin/customers/customer/add/", {"name": " ", "sms_number": "1", "_save": "Save"})
    assert "the customer name cannot be blank" in response.content.decode()
    assert client.post("/admin/customers/customer/add/",
                       {"name": "Ann", "sms_number": "1", "_save": "Save"}).status_code == 302
    assert list(models.Customer.objects.values_list("name", "enabled")) == [("Ann", True)]


@pytest.mark.parametrize("roles", [("store_staff",), ("store_admin",), ()])
def test_other_roles_do_not_see_customers(client, roles):
    login(client, *roles)
    assert client.get("/admin/customers/customer/").status_code == 403


def test_change_sms_action_asks_for_the_number_and_shows_domain_errors(client):
    login(client, "depot_staff")
    customer_id = services.register_customer(name="Ann", sms_number="1")
    changelist = "/admin/customers/customer/"
    page = client.post(changelist, {"action": "change_sms_number", "_selected_action": [customer_id]})
    assert page.status_code == 200 and "New SMS number" in page.content.decode()
    refused = client.post(changelist, {"action": "change_sms_number", "_selected_action": [customer_id],
                                       "apply": "1", "sms_number": " "})
    assert "the SMS number cannot be blank" in refused.content.decode()
    done = client.post(changelist, {"action": "change_sms_number", "_selected_action": [customer_id],
                                    "apply": "1", "sms_number": "555-0199"}, follow=True)
    assert "SMS number changed" in done.content.decode()
    assert models.Customer.objects.get(pk=customer_id).sms_number == "555-0199"
