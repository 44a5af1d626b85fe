"""The admin shaped by role (architecture.md §13, quality.md §3): each role sees and changes only its models,
kernel and library tables are for superusers, list pages show names and an order links to its neighbours."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.testing import make_user
from mallbots_site.tests.orders import given_ready_order

pytestmark = pytest.mark.django_db

ROLES = ("store_staff", "store_admin", "depot_staff", "depot_admin", "superuser")
STORE = {"store_staff", "store_admin", "superuser"}
DEPOT = {"depot_staff", "depot_admin", "superuser"}
SUPERUSER = {"superuser"}

VISIBLE_TO = {
    "stores.store": STORE, "stores.product": STORE,
    "customers.customer": DEPOT, "baskets.basket": DEPOT, "ordering.order": DEPOT,
    "depot.shoppinglist": DEPOT, "depot.bot": DEPOT, "payments.payment": DEPOT, "payments.invoice": DEPOT,
    "eventstore.storedevent": SUPERUSER, "eventstore.snapshot": SUPERUSER, "eventstore.outboxmessage": SUPERUSER,
    "eventstore.inboxmessage": SUPERUSER, "eventstore.appliedversion": SUPERUSER, "eventstore.checkpoint": SUPERUSER,
    "eventstore.deadletter": SUPERUSER, "eventstore.sagainstance": SUPERUSER, "access.apitoken": SUPERUSER,
    "django_q.schedule": SUPERUSER, "django_q.success": SUPERUSER, "django_q.failure": SUPERUSER,
    "django_q.ormq": SUPERUSER, "auth.user": SUPERUSER, "auth.group": SUPERUSER,
    "baskets.storecache": SUPERUSER, "baskets.productcache": SUPERUSER,
}

ADDABLE_BY = {"stores.store": STORE, "stores.product": STORE, "stores.storemember": {"store_admin", "superuser"},
              "customers.customer": DEPOT,
              "depot.bot": {"depot_admin", "superuser"}, "access.apitoken": SUPERUSER}


def login(client, role: str):
    user = make_user("root", superuser=True) if role == "superuser" else make_user(f"user-{role}", role)
    client.force_login(user)
    return user


def label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def expected_viewers(model) -> set[str]:
    """The declared table, or for an admin added later (notifications, search): the roles of its app."""
    if label(model) in VISIBLE_TO:
        return VISIBLE_TO[label(model)]
    return set(getattr(apps.get_app_config(model._meta.app_label), "staff_roles", ())) | SUPERUSER


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_tables(client, role):
    login(client, role)
    for model in admin.site._registry:
        app_label, model_name = model._meta.app_label, model._meta.model_name
        status = client.get(f"/admin/{app_label}/{model_name}/").status_code
        assert status == (200 if role in expected_viewers(model) else 403), (role, label(model), status)


@pytest.mark.parametrize("caller", ["anonymous", "deactivated", "bearer token", "no_role"])
def test_callers_without_a_role_or_a_live_session_get_no_changelist(client, caller):
    """Anonymous, a deactivated superuser's session and a superuser's API token (the admin reads sessions only)
    are sent to the login page; a staff user without a role gets 403 on every changelist (quality.md §3)."""
    from access.tokens import issue_token

    headers = {}
    if caller == "deactivated":
        client.force_login(make_user("leaver", superuser=True))
        User.objects.filter(username="leaver").update(is_active=False)
    elif caller == "bearer token":
        headers = {"HTTP_AUTHORIZATION": f"Bearer {issue_token('staff', user=make_user('root', superuser=True))[1]}"}
    elif caller == "no_role":
        client.force_login(make_user("nobody"))
    for model in admin.site._registry:
        path = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        response = client.get(path, **headers)
        if caller == "no_role":
            assert response.status_code == 403, (caller, path, response.status_code)
        else:
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), (
                caller, path, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_adds_only_what_its_api_level_allows(client, role):
    login(client, role)
    for model in admin.site._registry:
        app_label, model_name = model._meta.app_label, model._meta.model_name
        status = client.get(f"/admin/{app_label}/{model_name}/add/").status_code
        if label(model) in ADDABLE_BY:
            assert status == (200 if role in ADDABLE_BY[label(model)] else 403), (role, label(model), status)
        elif role != "superuser" or app_label not in ("auth", "django_q"):
            assert status == 403, (role, label(model), status)


@pytest.mark.parametrize("role, apps_shown, apps_hidden", [
    ("store_staff", ["Stores"], ["Ordering", "Depot", "Payments", "Customers", "Eventstore", "Django Q"]),
    ("depot_staff", ["Ordering", "Depot", "Payments", "Customers", "Baskets"], ["Stores", "Eventstore", "Django Q"]),
])
def test_the_index_shows_the_roles_modules_under_the_products_name(client, role, apps_shown, apps_hidden):
    login(client, role)
    page = client.get("/admin/").content.decode()
    assert "<title>Stores, depot and operations | MallBots admin</title>" in page and ">MallBots<" in page
    assert all(f">{name}<" in page for name in apps_shown), page
    assert not any(f">{name}<" in page for name in apps_hidden)


def test_store_staff_renames_a_store_but_only_store_admin_changes_participation(client):
    from stores import models, services

    store_id = services.create_store(name="Books", location="Level 1")
    models.StoreMember.objects.create(store_id=store_id, user=login(client, "store_staff"))
    form = client.get(f"/admin/stores/store/{store_id}/change/").content.decode()
    assert 'name="name"' in form and 'name="participating"' not in form
    response = client.post(f"/admin/stores/store/{store_id}/change/", {"name": "Bookshop"})
    assert response.status_code == 302 and models.Store.objects.get(id=store_id).name == "Bookshop"
    client.force_login(make_user("boss", "store_admin"))
    assert 'name="participating"' in client.get(f"/admin/stores/store/{store_id}/change/").content.decode()


def test_lists_show_names_from_other_modules_with_one_query_per_page(client):
    first = given_ready_order(customer="Ann Lee", bot="Robo One")
    login(client, "depot_staff")
    pages = {
        "/admin/ordering/order/": "Ann Lee", "/admin/baskets/basket/": "Ann Lee",
        "/admin/payments/payment/": "Ann Lee", "/admin/payments/invoice/": "Ann Lee",
        "/admin/depot/shoppinglist/": "Robo One",
    }
    queries = {}
    for path, name in pages.items():
        with CaptureQueriesContext(connection) as captured:
            page = client.get(path).content.decode()
        assert name in page, path
        queries[path] = len(captured)
    assert first.customer_id not in client.get("/admin/ordering/order/").content.decode().split("<tbody>")[1]

    from customers import services as customers
    from ordering import services as ordering

    for n in range(3):
        customer_id = customers.register_customer(name=f"Customer {n}", sms_number="555-0101")
        ordering.create_order(customer_id=customer_id, payment_id=f"p{n}", items=[
            {"product_id": "p", "store_id": "s", "store_name": "S", "product_name": "P", "price": "1.50",
             "quantity": 1}])
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/admin/ordering/order/").content.decode()
    assert all(f"Customer {n}" in page for n in range(3))
    assert len(captured) == queries["/admin/ordering/order/"]


def test_an_order_links_to_its_customer_list_bot_payment_and_invoice_and_they_link_back(client):
    order = given_ready_order(customer="Ann Lee", bot="Robo One")
    login(client, "depot_staff")
    page = client.get(f"/admin/ordering/order/{order.order_id}/change/").content.decode()
    for href in (f"/admin/customers/customer/{order.customer_id}/change/",
                 f"/admin/depot/shoppinglist/{order.shopping_id}/change/",
                 f"/admin/depot/bot/{order.bot_id}/change/",
                 f"/admin/payments/payment/{order.payment_id}/change/",
                 f"/admin/payments/invoice/{order.invoice_id}/change/"):
        assert f'href="{href}"' in page, href
    assert ">Ann Lee</a>" in page and ">Robo One</a>" in page
    back = f'href="/admin/ordering/order/{order.order_id}/change/"'
    for path in (f"/admin/depot/shoppinglist/{order.shopping_id}/change/",
                 f"/admin/payments/payment/{order.payment_id}/change/",
                 f"/admin/payments/invoice/{order.invoice_id}/change/"):
        assert back in client.get(path).content.decode(), path
    assert "ordering.OrderReadied" in page


def test_every_aggregate_change_page_shows_its_event_history(client):
    order = given_ready_order()
    login(client, "superuser")
    pages = {f"/admin/ordering/order/{order.order_id}/change/": "ordering.OrderCreated",
             f"/admin/depot/shoppinglist/{order.shopping_id}/change/": "depot.ShoppingListCreated",
             f"/admin/depot/bot/{order.bot_id}/change/": "depot.BotRegistered",
             f"/admin/payments/payment/{order.payment_id}/change/": "payments.PaymentAuthorized",
             f"/admin/payments/invoice/{order.invoice_id}/change/": "payments.InvoiceCreated",
             f"/admin/customers/customer/{order.customer_id}/change/": "customers.CustomerRegistered"}
    for path, first_event in pages.items():
        page = client.get(path).content.decode()
        assert "Event history" in page and first_event in page, path
