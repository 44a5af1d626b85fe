"""Issue 13, finding 6: store staff keep *their* stores' catalog current (product.md), store admins every
store. Before, a store_staff token rebranded, priced and added products on every store, and the admin
listed every store to them."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from access.testing import Api, make_user
from access.tokens import issue_token
from eventstore.models import StoredEvent
from stores import models, services

pytestmark = pytest.mark.django_db

DENIED = (403, {"code": 7, "message": "permission denied", "details": []})


@pytest.fixture
def mall(db):
    sally = make_user("sally", "store_staff")
    own = services.create_store(name="Sally's", location="L1", creator=sally.pk)
    other = services.create_store(name="Other", location="L2")
    return {"sally": sally, "own": own, "other": other,
            "own_product": services.add_product(store_id=own, name="Tea", description="", sku="", price=Decimal("5")),
            "other_product": services.add_product(store_id=other, name="Gin", description="", sku="",
                                                  price=Decimal("5"))}


@pytest.fixture
def sally_api(client, mall):
    return Api(client, issue_token("staff", user=mall["sally"])[1])


CHANGES = [
    ("rebrandStore", "PUT", "/api/stores/{store}/rebrand", {"name": "Renamed"}),
    ("addProduct", "POST", "/api/stores/{store}/products", {"name": "New", "price": 1}),
    ("rebrandProduct", "PUT", "/api/stores/products/{product}/rebrand", {"name": "Renamed"}),
    ("increaseProductPrice", "PUT", "/api/stores/products/{product}/increasePrice", {"price": 9}),
    ("decreaseProductPrice", "PUT", "/api/stores/products/{product}/decreasePrice", {"price": 1}),
    ("removeProduct", "DELETE", "/api/stores/products/{product}", None),
]


@pytest.mark.parametrize("operation,method,path,body", CHANGES, ids=[c[0] for c in CHANGES])
def test_store_staff_change_their_own_store_only(sally_api, mall, operation, method, path, body):
    events = StoredEvent.objects.count()
    assert sally_api(method, path.format(store=mall["other"], product=mall["other_product"]), body) == DENIED
    assert StoredEvent.objects.count() == events
    status, _ = sally_api(method, path.format(store=mall["own"], product=mall["own_product"]), body)
    assert status == 200


@pytest.mark.parametrize("operation,method,path,body", CHANGES, ids=[c[0] for c in CHANGES])
def test_not_found_comes_before_permission_denied_and_permission_before_business_rules(
        sally_api, mall, operation, method, path, body):
    status, payload = sally_api(method, path.format(store="unknown", product="unknown"), body)
    assert status == 404
    if body is not None and "name" in body:
        assert sally_api(method, path.format(store=mall["other"], product=mall["other_product"]),
                         {**body, "name": " "}) == DENIED


def test_a_removed_product_of_another_store_is_not_found_not_forbidden(sally_api, mall):
    services.remove_product(product_id=mall["other_product"])
    assert sally_api("PUT", f"/api/stores/products/{mall['other_product']}/rebrand", {"name": "X"})[0] == 404


@pytest.mark.parametrize("operation,method,path,body", CHANGES, ids=[c[0] for c in CHANGES])
def test_store_admins_change_every_store(client, mall, operation, method, path, body):
    admin_api = Api(client, issue_token("staff", user=make_user("adam", "store_admin"))[1])
    status, _ = admin_api(method, path.format(store=mall["other"], product=mall["other_product"]), body)
    assert status == 200


def test_a_store_created_by_store_staff_makes_them_a_member(sally_api, mall):
    status, body = sally_api("POST", "/api/stores", {"name": "Fresh", "location": "L3"})
    assert status == 200
    assert models.StoreMember.objects.filter(store_id=body["id"], user=mall["sally"]).exists()
    assert sally_api("POST", f"/api/stores/{body['id']}/products", {"name": "Bread", "price": 2})[0] == 200


@pytest.fixture
def sally_admin(client, mall):
    client.force_login(mall["sally"])
    return client


def test_the_admin_lists_only_the_member_stores_and_their_products(sally_admin, mall):
    stores_page = sally_admin.get("/admin/stores/store/")
    assert [row.pk for row in stores_page.context["cl"].result_list] == [mall["own"]]
    products_page = sally_admin.get("/admin/stores/product/")
    assert [row.pk for row in products_page.context["cl"].result_list] == [mall["own_product"]]
    add_form = sally_admin.get("/admin/stores/product/add/").context["adminform"].form
    assert [choice for choice, _ in add_form.fields["store_id"].choices if choice] == [mall["own"]]


def test_the_admin_answers_403_for_another_stores_pages_and_changes_nothing(sally_admin, mall):
    assert sally_admin.get(f"/admin/stores/store/{mall['other']}/change/").status_code == 403
    assert sally_admin.post(f"/admin/stores/store/{mall['other']}/change/",
                            {"name": "Mine now", "_save": "Save"}).status_code == 403
    assert sally_admin.get(f"/admin/stores/product/{mall['other_product']}/change/").status_code == 403
    assert sally_admin.post(f"/admin/stores/product/{mall['other_product']}/delete/", {"post": "yes"}).status_code == 403
    sally_admin.post("/admin/stores/product/", {"action": "remove_products",
                                                "_selected_action": [mall["other_product"]]})
    response = sally_admin.post("/admin/stores/product/add/", {
        "store_id": mall["other"], "name": "Sneaky", "description": "", "sku": "", "price": "1", "_save": "Save"})
    assert response.status_code == 200
    assert models.Store.objects.get(pk=mall["other"]).name == "Other"
    assert not models.Product.objects.filter(store_id=mall["other"], name="Sneaky").exists()
    assert models.Product.objects.get(pk=mall["other_product"]).removed is False
    assert sally_admin.get(f"/admin/stores/store/{mall['own']}/change/").status_code == 200


def test_store_admins_manage_memberships_and_store_staff_cannot(client, mall):
    client.force_login(mall["sally"])
    assert client.get("/admin/stores/storemember/add/").status_code == 403
    client.force_login(make_user("adam", "store_admin"))
    response = client.post("/admin/stores/storemember/add/", {"store": mall["other"], "user": mall["sally"].pk,
                                                              "_save": "Save"})
    assert response.status_code == 302
    client.force_login(mall["sally"])
    assert client.get(f"/admin/stores/store/{mall['other']}/change/").status_code == 200
    listed = client.get("/admin/stores/storemember/").context["cl"].result_list
    assert {row.store_id for row in listed} == {mall["other"], mall["own"]}
    assert User.objects.get(username="sally").store_memberships.count() == 2


@pytest.mark.django_db(transaction=True)
def test_memberships_outlive_a_rebuild_of_the_stores_read_model(mall):
    from eventstore import projections

    projections.rebuild("stores")
    assert models.Store.objects.filter(id=mall["own"]).exists()
    assert list(models.StoreMember.objects.values_list("store_id", "user_id")) == [(mall["own"], mall["sally"].pk)]
