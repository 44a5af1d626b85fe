"""Django admin for stores: changes go through the services, errors show the API texts, event history."""

from decimal import Decimal

import pytest

from django.contrib.auth.models import User

from access.testing import make_user
from eventstore.models import StoredEvent
from stores import models, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def store_staff(client):
    client.force_login(make_user("sally", "store_staff"))
    return client


def sallys_store(name="Shop", location="F1") -> str:
    """A store whose member is the store_staff user ``sally`` (store staff change only their stores)."""
    return services.create_store(name=name, location=location, creator=User.objects.get(username="sally").pk)


@pytest.fixture
def store_admin(client):
    client.force_login(make_user("adam", "store_admin"))
    return client


def test_store_staff_creates_a_store_and_a_product_and_changes_its_price(store_staff):
    response = store_staff.post("/admin/stores/store/add/", {"name": " Shop ", "location": "Floor 1", "_save": "Save"})
    assert response.status_code == 302, response.content
    store = models.Store.objects.get()
    assert (store.name, store.location, store.participating, store.version) == ("Shop", "Floor 1", True, 1)

    response = store_staff.post("/admin/stores/product/add/", {
        "store_id": store.pk, "name": "Tea", "description": "Green", "sku": "T1", "price": "9.99", "_save": "Save"})
    assert response.status_code == 302, response.content
    product = models.Product.objects.get()
    assert (product.store_id, product.name, product.price) == (store.pk, "Tea", Decimal("9.99"))

    change = f"/admin/stores/product/{product.pk}/change/"
    form = {"name": "Tea", "description": "Green", "price": "12.50", "_save": "Save"}
    assert store_staff.post(change, form).status_code == 302
    assert store_staff.post(change, {**form, "name": "Black tea", "price": "4.00"}).status_code == 302
    product.refresh_from_db()
    assert (product.name, product.price, product.version) == ("Black tea", Decimal("4.00"), 4)
    names = list(StoredEvent.objects.filter(stream_id=product.pk).order_by("version")
                 .values_list("event_name", "metadata__actor"))
    assert names == [("stores.ProductAdded", "staff:sally"), ("stores.ProductPriceIncreased", "staff:sally"),
                     ("stores.ProductRebranded", "staff:sally"), ("stores.ProductPriceDecreased", "staff:sally")]


def test_change_page_shows_the_event_history(store_staff):
    store_id = sallys_store()
    product_id = services.add_product(store_id=store_id, name="Tea", description="", sku="", price=Decimal("2"))
    services.increase_product_price(product_id=product_id, price=Decimal("3"))
    page = store_staff.get(f"/admin/stores/product/{product_id}/change/").content.decode()
    assert "Event history" in page
    assert page.index("stores.ProductAdded") < page.index("stores.ProductPriceIncreased")
    assert "&quot;price&quot;:3.0" in page
    store_page = store_staff.get(f"/admin/stores/store/{store_id}/change/").content.decode()
    assert "stores.StoreCreated" in store_page and "stores.ProductAdded" not in store_page
    assert "Event history" not in store_staff.get("/admin/stores/store/add/").content.decode()


@pytest.mark.parametrize("url,form,text", [
    ("/admin/stores/store/add/", {"name": "  ", "location": ""}, "the store name cannot be blank"),
    ("/admin/stores/store/add/", {"name": "Shop", "location": " "}, "the store location cannot be blank"),
])
def test_refused_store_commands_show_the_api_text_and_keep_nothing(store_staff, url, form, text):
    response = store_staff.post(url, {**form, "_save": "Save"})
    assert response.status_code == 200 and text in response.content.decode()
    assert not models.Store.objects.exists() and not StoredEvent.objects.exists()


def test_refused_product_change_shows_the_api_text_and_rolls_back_the_whole_form(store_staff):
    store_id = sallys_store()
    product_id = services.add_product(store_id=store_id, name="Tea", description="", sku="", price=Decimal("2"))
    response = store_staff.post(f"/admin/stores/product/{product_id}/change/",
                                {"name": "Renamed", "description": "", "price": "-1", "_save": "Save"})
    assert response.status_code == 200
    assert "the product price cannot be negative" in response.content.decode()
    product = models.Product.objects.get(pk=product_id)
    assert (product.name, product.price, product.version) == ("Tea", Decimal("2.00"), 1)
    response = store_staff.post("/admin/stores/product/add/",
                                {"store_id": store_id, "name": " ", "price": "1", "_save": "Save"})
    assert "initializing product: the product name cannot be blank" in response.content.decode()


def test_store_staff_rebrands_but_cannot_change_participation(store_staff):
    store_id = sallys_store()
    change = f"/admin/stores/store/{store_id}/change/"
    assert 'name="participating"' not in store_staff.get(change).content.decode()
    assert store_staff.post(change, {"name": "New", "_save": "Save"}).status_code == 302
    store = models.Store.objects.get(pk=store_id)
    assert (store.name, store.participating) == ("New", True)
    actions = store_staff.get("/admin/stores/store/").content.decode()
    assert "disable_participation" not in actions
    store_staff.post("/admin/stores/store/", {"action": "disable_participation", "_selected_action": [store_id]})
    assert models.Store.objects.get(pk=store_id).participating is True


def test_store_admin_toggles_participation_by_form_and_action(store_admin):
    store_id = services.create_store(name="Shop", location="F1")
    change = f"/admin/stores/store/{store_id}/change/"
    assert store_admin.post(change, {"name": "Shop", "_save": "Save"}).status_code == 302
    assert models.Store.objects.get(pk=store_id).participating is False
    store_admin.post("/admin/stores/store/", {"action": "enable_participation", "_selected_action": [store_id]})
    assert models.Store.objects.get(pk=store_id).participating is True
    response = store_admin.post("/admin/stores/store/", {"action": "enable_participation",
                                                         "_selected_action": [store_id]}, follow=True)
    assert "the store is already participating" in response.content.decode()


def test_removing_a_product_goes_through_the_service(store_staff):
    store_id = sallys_store()
    first = services.add_product(store_id=store_id, name="A", description="", sku="", price=Decimal("1"))
    second = services.add_product(store_id=store_id, name="B", description="", sku="", price=Decimal("1"))
    assert store_staff.post(f"/admin/stores/product/{first}/delete/", {"post": "yes"}).status_code == 302
    store_staff.post("/admin/stores/product/", {"action": "remove_products", "_selected_action": [second]})
    assert list(models.Product.objects.order_by("name").values_list("removed", "version")) == [(True, 2), (True, 2)]
    assert StoredEvent.objects.filter(event_name="stores.ProductRemoved").count() == 2
    assert store_staff.get(f"/admin/stores/product/{first}/change/").status_code == 200
    assert store_staff.post(f"/admin/stores/product/{first}/change/",
                            {"name": "X", "price": "1", "_save": "Save"}).status_code == 403


@pytest.mark.parametrize("url", [
    "/admin/customers/customer/", "/admin/eventstore/storedevent/", "/admin/eventstore/outboxmessage/",
    "/admin/access/apitoken/",
])
def test_store_staff_cannot_see_customers_or_kernel_tables(store_staff, url):
    assert store_staff.get(url).status_code in (403, 404)
    index = store_staff.get("/admin/").content.decode()
    assert "/admin/stores/store/" in index and "/admin/customers/" not in index and "/admin/eventstore/" not in index


def test_depot_staff_does_not_see_stores(client):
    client.force_login(make_user("dora", "depot_staff"))
    assert client.get("/admin/stores/store/").status_code == 403
    assert client.get("/admin/stores/product/add/").status_code == 403


def test_admin_texts_are_bounded_like_the_api(store_staff):
    """Issue 13, finding 2 (ADR 20): the admin forms refuse text the API refuses, nothing is written."""
    response = store_staff.post("/admin/stores/store/add/", {"name": "n" * 201, "location": "F1", "_save": "Save"})
    assert response.status_code == 200 and "at most 200 characters" in response.content.decode()
    response = store_staff.post("/admin/stores/store/add/", {"name": "a\x00b", "location": "F1", "_save": "Save"})
    assert response.status_code == 200 and "Null characters are not allowed" in response.content.decode()
    assert not models.Store.objects.exists() and not StoredEvent.objects.exists()
