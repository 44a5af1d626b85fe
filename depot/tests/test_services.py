"""Depot services beyond the HTTP layer: one list per order under concurrency, the public facade, the admin."""

import threading
import uuid

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection

from depot import models, public, services
from depot.tests.conftest import lines, list_in
from eventstore.errors import DomainError
from eventstore.models import StoredEvent


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("existing_ok", [False, True])
def test_given_two_concurrent_creates_for_one_order_then_exactly_one_list_exists(mall, existing_ok):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def create():
        try:
            barrier.wait()
            outcomes.append(services.create_shopping_list(order_id="order-x", items=lines((mall.toys, mall.kite, 1)),
                                                          existing_ok=existing_ok))
        except DomainError as refused:
            outcomes.append(refused.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    [row] = models.ShoppingList.objects.filter(order_id="order-x")
    expected = [row.id, row.id] if existing_ok else [row.id, "the order already has a shopping list"]
    assert sorted(outcomes) == sorted(expected)
    assert StoredEvent.objects.filter(stream_type="depot.ShoppingList").count() == 1


@pytest.mark.django_db
def test_public_facade_reads_lists_by_id_and_by_order(mall):
    list_id = list_in(mall, "active")
    services.pick_item(list_id=list_id, product_id=mall.robot, quantity=1)
    info = public.shopping_list_for_order("order-1")
    assert info == public.find_shopping_list(list_id)
    assert (info.id, info.order_id, info.status, info.assigned_bot_id, info.version) == (
        list_id, "order-1", "active", "bot-1", 5)
    assert [(i.store_id, i.product_id, i.product_name, i.quantity, i.picked_quantity, i.status) for i in info.items] == [
        (mall.toys, mall.robot, "Robot", 2, 1, "picked"), (mall.toys, mall.kite, "Kite", 1, 0, "pending"),
        (mall.books, mall.novel, "Novel", 1, 0, "pending")]
    assert public.find_shopping_list(str(uuid.uuid4())) is None
    assert public.find_shopping_list("bad id") is None
    assert public.shopping_list_for_order("no-such-order") is None


@pytest.mark.django_db
def test_given_bot_token_acting_on_a_list_when_calling_services_then_only_the_assigned_bot_may(mall):
    from eventstore.errors import Forbidden

    list_id = list_in(mall, "assigned")
    with pytest.raises(Forbidden, match="the shopping list is not assigned to this bot"):
        services.start_shopping(list_id=list_id, acting_bot_id="bot-2")
    services.start_shopping(list_id=list_id, acting_bot_id="bot-1")
    assert models.ShoppingList.objects.get(id=list_id).status == "active"


def depot_user(username, *roles):
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(username, is_staff=True)
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


@pytest.mark.django_db
def test_admin_actions_initiate_and_cancel_go_through_the_services(client, mall):
    pending, completed = list_in(mall, "pending", order_id="o-1"), list_in(mall, "completed", order_id="o-2")
    services.bot_offline(bot_id="bot-1")
    client.force_login(depot_user("desk", "depot_staff"))
    url = "/admin/depot/shoppinglist/"
    assert client.get(url).status_code == 200
    page = client.get(f"{url}{pending}/change/")
    assert page.status_code == 200 and b"depot.ShoppingListCreated" in page.content
    client.post(url, {"action": "initiate_lists", "_selected_action": [pending]})
    assert models.ShoppingList.objects.get(id=pending).status == "available"
    response = client.post(url, {"action": "cancel_lists", "_selected_action": [pending, completed]}, follow=True)
    assert b"the shopping list cannot be canceled" in response.content
    assert dict(models.ShoppingList.objects.values_list("id", "status")) == {pending: "canceled",
                                                                             completed: "completed"}
    event = StoredEvent.objects.get(stream_id=pending, event_name="depot.ShoppingListCanceled")
    assert event.metadata["actor"] == "staff:desk"


@pytest.mark.django_db
def test_admin_hides_shopping_lists_from_store_roles(client, mall):
    list_in(mall, "pending")
    client.force_login(depot_user("shop", "store_admin"))
    assert client.get("/admin/depot/shoppinglist/").status_code == 403


@pytest.mark.django_db
def test_schema_lists_the_shopping_list_operations(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for operation_id in ("createShoppingList", "cancelShoppingList", "deleteShoppingList", "listShoppingLists",
                         "getShoppingList", "initiateShopping", "startShopping", "pickItem", "reportItemUnavailable",
                         "completeShoppingList"):
        assert f"operationId: {operation_id}" in schema or f'"operationId":"{operation_id}"' in schema.replace(" ", "")


@pytest.mark.django_db
def test_given_snapshots_when_a_list_is_loaded_then_state_equals_the_replayed_state(mall, settings):
    from eventstore.models import Snapshot

    settings.EVENTSTORE_SNAPSHOT_EVERY = 3
    list_id = list_in(mall, "active")
    services.pick_item(list_id=list_id, product_id=mall.kite, quantity=1)
    snapshot = Snapshot.objects.get(stream_id=list_id)
    assert (snapshot.snapshot_name, snapshot.version) == ("depot.ShoppingListV1", 3)
    loaded = services.shopping_lists.load(list_id)
    settings.EVENTSTORE_SNAPSHOT_EVERY = 0
    Snapshot.objects.all().delete()
    replayed = services.shopping_lists.load(list_id)
    assert (loaded.version, loaded.status, loaded.assigned_bot_id, loaded.order_id, loaded.items, loaded.stops) == (
        replayed.version, replayed.status, replayed.assigned_bot_id, replayed.order_id, replayed.items,
        replayed.stops)
    assert loaded.item(mall.kite).picked_quantity == 1


@pytest.mark.django_db
def test_creating_a_list_from_cached_stores_and_products_reads_once(mall):
    from django.test.utils import CaptureQueriesContext

    services.create_shopping_list(order_id="order-warm", items=lines((mall.toys, mall.kite, 1)))
    with CaptureQueriesContext(connection) as captured:
        created = services.create_shopping_list(order_id="order-y", items=lines((mall.toys, mall.kite, 2)))
        again = services.create_shopping_list(order_id="order-y", items=lines((mall.toys, mall.kite, 2)),
                                              existing_ok=True)
    reads = [q["sql"] for q in captured.captured_queries
             if q["sql"].lstrip().startswith("SELECT") and "pg_advisory" not in q["sql"]]
    assert len(reads) == 2 and all("_shoppinglist" in sql and "_productcache" in sql for sql in reads)
    assert again == created
