"""Ordering admin: the actions go through the services, for depot roles only."""

from decimal import Decimal

import pytest

from access.testing import make_user
from ordering import models, services

pytestmark = pytest.mark.django_db


def given_order() -> str:
    return services.create_order(customer_id="c1", payment_id="p1", items=[
        {"product_id": "p", "store_id": "s", "store_name": "S", "product_name": "P", "price": Decimal("1.50"),
         "quantity": 2}])


def test_depot_staff_cancels_an_order_through_the_admin_action(client):
    order_id = given_order()
    client.force_login(make_user("desk", "depot_staff"))
    response = client.post("/admin/ordering/order/", {"action": "cancel_orders", "_selected_action": [order_id]},
                           follow=True)
    assert response.status_code == 200 and b"Orders cancelled: 1" in response.content
    row = models.Order.objects.get(id=order_id)
    assert (row.status, row.reason) == ("cancelled", "staff")
    change_page = client.get(f"/admin/ordering/order/{order_id}/change/")
    assert b"ordering.OrderCanceled" in change_page.content


def test_a_refused_action_shows_the_api_text(client):
    order_id = given_order()
    services.cancel_order(order_id=order_id, reason="customer")
    client.force_login(make_user("desk", "depot_staff"))
    response = client.post("/admin/ordering/order/", {"action": "complete_orders", "_selected_action": [order_id]},
                           follow=True)
    assert b"the order cannot be completed" in response.content


def test_store_staff_cannot_see_orders(client):
    given_order()
    client.force_login(make_user("shop", "store_staff"))
    assert client.get("/admin/ordering/order/").status_code == 403
