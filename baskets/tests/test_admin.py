"""Django admin for baskets: depot roles see baskets and cancel them through the service; caches are
for superusers; every basket shows its event history."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from baskets import models, services
from eventstore.models import StoredEvent

pytestmark = pytest.mark.django_db


def login(client, role, superuser=False):
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(f"u-{role}", password=None, is_staff=True, is_superuser=superuser)
    user.groups.set(Group.objects.filter(name=role))
    client.force_login(user)
    return client


@pytest.mark.parametrize("role,superuser,baskets,caches", [
    ("depot_staff", False, 200, 403), ("depot_admin", False, 200, 403), ("store_admin", False, 403, 403),
    ("none", True, 200, 200),
])
def test_who_sees_what(client, role, superuser, baskets, caches):
    services.start_basket(customer_id="c1")
    login(client, role, superuser)
    assert client.get("/admin/baskets/basket/").status_code == baskets
    assert client.get("/admin/baskets/productcache/").status_code == caches
    assert client.get("/admin/baskets/storecache/").status_code == caches


def test_cancel_basket_action_goes_through_the_service(client):
    open_id = services.start_basket(customer_id="c1")
    closed_id = services.start_basket(customer_id="c2")
    services.cancel_basket(basket_id=closed_id)
    login(client, "depot_staff")
    response = client.post("/admin/baskets/basket/", {"action": "cancel_baskets",
                                                      "_selected_action": [open_id, closed_id]}, follow=True)
    page = response.content.decode()
    assert "Baskets cancelled: 1" in page and "the basket cannot be cancelled" in page
    assert models.Basket.objects.get(id=open_id).status == "canceled"
    event = StoredEvent.objects.get(stream_id=open_id, version=2)
    assert (event.payload, event.metadata["actor"]) == ({"reason": "customer"}, "staff:u-depot_staff")


def test_basket_change_page_is_read_only_with_event_history(client):
    basket_id = services.start_basket(customer_id="c1")
    login(client, "depot_staff")
    page = client.get(f"/admin/baskets/basket/{basket_id}/change/").content.decode()
    assert "Event history" in page and "baskets.BasketStarted" in page
    assert client.get("/admin/baskets/basket/add/").status_code == 403
