"""Shopping-list endpoints of api.md §4.6 over HTTP, against real PostgreSQL."""

import uuid

import pytest

from access.tokens import issue_token
from depot import services
from depot.tests.conftest import Api, bot_token, list_in, staff_token
from eventstore import codec
from eventstore.models import StoredEvent
from eventstore.testing import capture_outbox, deliver_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def depot(db) -> Api:
    return Api(staff_token("desk", "depot_staff"))


def create_body(mall, order_id="order-9", **overrides):
    body = {"orderId": order_id, "items": [{"productId": mall.robot, "storeId": mall.toys, "quantity": 2},
                                           {"productId": mall.novel, "storeId": mall.books, "quantity": 1},
                                           {"productId": mall.robot, "storeId": mall.toys, "quantity": 1}]}
    body.update(overrides)
    return body


def error(response, status, message):
    assert (response.status_code, response.json()) == (status, {"code": {400: 3, 401: 16, 403: 7, 404: 5}[status],
                                                                 "message": message, "details": []})


# ---------------------------------------------------------------- createShoppingList / getShoppingList


def test_given_items_when_created_then_the_list_reads_back_with_grouped_stops_and_merged_items(depot, mall):
    list_id = depot.ok("POST", "/api/depot/shopping", create_body(mall))["id"]
    assert uuid.UUID(list_id).version == 4
    body = depot.ok("GET", f"/api/depot/shopping/{list_id}")
    created_at = body["shoppingList"].pop("createdAt")
    assert codec.parse_timestamp(created_at).tzinfo is not None and created_at.endswith("Z")
    assert body == {"shoppingList": {
        "id": list_id, "orderId": "order-9", "status": "pending", "assignedBotId": "",
        "stops": [
            {"storeId": mall.toys, "storeName": "Toys", "storeLocation": "Level 1", "items": [
                {"productId": mall.robot, "productName": "Robot", "quantity": 3, "pickedQuantity": 0,
                 "status": "pending"}]},
            {"storeId": mall.books, "storeName": "Books", "storeLocation": "Level 2", "items": [
                {"productId": mall.novel, "productName": "Novel", "quantity": 1, "pickedQuantity": 0,
                 "status": "pending"}]},
        ]}}
    [event] = StoredEvent.objects.filter(stream_id=list_id)
    assert (event.stream_type, event.event_name, event.metadata["actor"]) == (
        "depot.ShoppingList", "depot.ShoppingListCreated", "staff:desk")


def test_given_snake_case_body_when_created_then_it_is_read_too(depot, mall):
    body = {"order_id": "o-snake", "items": [{"product_id": mall.kite, "store_id": mall.toys, "quantity": "2"}]}
    list_id = depot.ok("POST", "/api/depot/shopping", body)["id"]
    assert depot.ok("GET", f"/api/depot/shopping/{list_id}")["shoppingList"]["stops"][0]["items"][0]["quantity"] == 2


CREATE_ERRORS = [
    ("blank order", lambda m: {"orderId": " ", "items": []}, 400, "the order id cannot be blank"),
    ("no items", lambda m: {"orderId": "o"}, 400, "the shopping list has no items"),
    ("blank product", lambda m: {"orderId": "o", "items": [{"storeId": "", "quantity": -1}]}, 400,
     "the product id cannot be blank"),
    ("blank store", lambda m: {"orderId": "o", "items": [{"productId": "nope", "quantity": -1}]}, 400,
     "the store id cannot be blank"),
    ("negative", lambda m: {"orderId": "o", "items": [{"productId": "nope", "storeId": "nope", "quantity": -1}]},
     400, "the item quantity cannot be negative"),
    ("zero", lambda m: {"orderId": "o", "items": [{"productId": "nope", "storeId": "nope"}]}, 400,
     "the item quantity cannot be zero"),
    ("unknown store", lambda m: {"orderId": "o", "items": [{"productId": "nope", "storeId": "nope", "quantity": 1}]},
     404, "store not found"),
    ("malformed store", lambda m: {"orderId": "o", "items": [{"productId": "x", "storeId": "a b", "quantity": 1}]},
     404, "store not found"),
    ("unknown product", lambda m: {"orderId": "o", "items": [{"productId": "nope", "storeId": m.toys,
                                                              "quantity": 1}]}, 404, "product not found"),
    ("foreign product", lambda m: {"orderId": "o", "items": [{"productId": m.novel, "storeId": m.toys,
                                                              "quantity": 1}]}, 400,
     "the product does not belong to the store"),
    ("second item checked after first", lambda m: {"orderId": "o", "items": [
        {"productId": m.robot, "storeId": m.toys, "quantity": 1}, {"productId": m.novel, "storeId": m.books,
                                                                   "quantity": 0}]}, 400,
     "the item quantity cannot be zero"),
    ("type error", lambda m: {"orderId": "o", "items": [{"productId": 5}]}, 400, None),
]


@pytest.mark.parametrize("case,body,status,message", CREATE_ERRORS, ids=[c[0] for c in CREATE_ERRORS])
def test_given_bad_create_request_when_posted_then_first_failing_check_answers(depot, mall, case, body, status,
                                                                               message):
    response = depot.call("POST", "/api/depot/shopping", body(mall))
    if message is None:
        assert response.status_code == 400 and response.json()["message"] == "items[0].productId must be a string"
    else:
        error(response, status, message)


def test_given_store_out_of_service_when_created_then_not_participating_after_ownership(depot, mall, catalog):
    catalog.leave(mall.books)
    deliver_all(modules=["depot"])
    error(depot.call("POST", "/api/depot/shopping", {"orderId": "o", "items": [
        {"productId": mall.robot, "storeId": mall.books, "quantity": 1}]}), 400,
        "the product does not belong to the store")
    error(depot.call("POST", "/api/depot/shopping", create_body(mall)), 400, "the store is not participating")


def test_given_removed_product_when_created_then_product_not_found(depot, mall, catalog):
    catalog.remove(mall.kite)
    deliver_all(modules=["depot"])
    error(depot.call("POST", "/api/depot/shopping", {"orderId": "o", "items": [
        {"productId": mall.kite, "storeId": mall.toys, "quantity": 1}]}), 404, "product not found")


def test_given_order_with_a_list_when_created_again_then_e8_after_item_checks(depot, mall):
    depot.ok("POST", "/api/depot/shopping", create_body(mall, order_id="o-1"))
    error(depot.call("POST", "/api/depot/shopping", create_body(mall, order_id="o-1", items=[
        {"productId": mall.robot, "storeId": mall.toys, "quantity": 0}])), 400, "the item quantity cannot be zero")
    error(depot.call("POST", "/api/depot/shopping", create_body(mall, order_id="o-1")), 400,
          "the order already has a shopping list")


def test_access_levels_of_create_and_read(mall):
    body = create_body(mall)
    error(Api("nothing").call("POST", "/api/depot/shopping", body), 401, "invalid token")
    from rest_framework.test import APIClient

    anonymous = APIClient().post("/api/depot/shopping", body, format="json")
    assert anonymous.status_code == 401 and anonymous.json()["message"] == "authentication required"
    for token in (issue_token("kiosk", name="north")[1], bot_token("bot-1"), staff_token("shop", "store_admin")):
        error(Api(token).call("POST", "/api/depot/shopping", body), 403, "permission denied")
        error(Api(token).call("GET", "/api/depot/shopping"), 403, "permission denied")
    Api(staff_token("boss", "depot_admin")).ok("POST", "/api/depot/shopping", body)


def test_given_wrong_method_then_405(depot):
    response = depot.call("PATCH", "/api/depot/shopping/x")
    assert response.status_code == 405 and response.json()["message"] == "Method Not Allowed"
    assert depot.call("GET", "/api/depot/shopping/x/initiate").status_code == 405


def test_given_unknown_or_malformed_list_when_read_then_404(depot):
    for list_id in (str(uuid.uuid4()), "bad%20id", "x" * 65):
        error(depot.call("GET", f"/api/depot/shopping/{list_id}"), 404, "shopping list not found")


def test_given_bot_token_when_reading_lists_then_only_its_own_assigned_list_after_the_404(mall):
    mine, theirs = list_in(mall, "assigned", order_id="o-1"), list_in(mall, "assigned", order_id="o-2", bot_id="bot-2")
    pending = list_in(mall, "pending", order_id="o-3")
    bot = Api(bot_token("bot-1"))
    assert bot.ok("GET", f"/api/depot/shopping/{mine}")["shoppingList"]["assignedBotId"] == "bot-1"
    error(bot.call("GET", f"/api/depot/shopping/{theirs}"), 403, "the shopping list is not assigned to this bot")
    error(bot.call("GET", f"/api/depot/shopping/{pending}"), 403, "the shopping list is not assigned to this bot")
    error(bot.call("GET", f"/api/depot/shopping/{uuid.uuid4()}"), 404, "shopping list not found")


# ---------------------------------------------------------------- listShoppingLists


def test_given_lists_when_listed_then_newest_first_with_exact_filters(depot, mall):
    first = list_in(mall, "assigned", order_id="o-1")
    second = list_in(mall, "pending", order_id="o-2")
    third = list_in(mall, "assigned", order_id="o-3", bot_id="bot-2")

    def ids(query=""):
        return [row["id"] for row in depot.ok("GET", f"/api/depot/shopping{query}")["shoppingLists"]]

    assert ids() == [third, second, first]
    assert ids("?status=assigned") == [third, first]
    assert ids("?botId=bot-1") == [first]
    assert ids("?orderId=o-2") == [second]
    assert ids("?status=assigned&botId=bot-2") == [third]
    assert ids("?orderId=o-2&status=assigned") == []
    assert ids("?limit=2") == [third, second]
    assert ids("?status=&limit=") == [third, second, first]
    row = depot.ok("GET", "/api/depot/shopping?orderId=o-1")["shoppingLists"][0]
    assert row == depot.ok("GET", f"/api/depot/shopping/{first}")["shoppingList"]


def test_given_many_lists_when_listed_then_limit_defaults_to_50_and_caps_at_200(depot, mall):
    for n in range(52):
        services.create_shopping_list(order_id=f"o-{n}", items=[services.Line(mall.kite, mall.toys, 1)])
    assert len(depot.ok("GET", "/api/depot/shopping")["shoppingLists"]) == 50
    assert len(depot.ok("GET", "/api/depot/shopping?limit=0")["shoppingLists"]) == 50
    assert len(depot.ok("GET", "/api/depot/shopping?limit=500")["shoppingLists"]) == 52
    assert len(depot.ok("GET", "/api/depot/shopping?limit=51")["shoppingLists"]) == 51


def test_given_bad_query_when_listed_then_status_text_before_limit_text(depot):
    error(depot.call("GET", "/api/depot/shopping?status=open&limit=x"), 400, "unknown shopping list status: open")
    error(depot.call("GET", "/api/depot/shopping?limit=x"), 400, "limit must be an integer")
    error(depot.call("GET", "/api/depot/shopping?limit=2.5"), 400, "limit must be an integer")
    assert depot.ok("GET", "/api/depot/shopping?status=canceled") == {"shoppingLists": []}


# ---------------------------------------------------------------- cancel / initiate


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_given_open_list_when_canceled_then_canceled_and_published(depot, mall, method):
    list_id = list_in(mall, "active")
    with capture_outbox() as captured:
        assert depot.ok(method, f"/api/depot/shopping/{list_id}", {} if method == "POST" else None) == {}
    assert depot.ok("GET", f"/api/depot/shopping/{list_id}")["shoppingList"]["status"] == "canceled"
    message, released = captured.messages
    assert (message.name, message.subject, message.payload) == (
        "depotapi.ShoppingListCanceled", "mallbots.depot.events.ShoppingList", {"id": list_id, "order_id": "order-1"})
    assert (released.name, released.subject, released.payload) == (
        "depotapi.BotAvailable", "mallbots.depot.events.Bot", {"id": "bot-1", "name": "bot-1"})
    error(depot.call(method, f"/api/depot/shopping/{list_id}"), 400, "the shopping list cannot be canceled")
    error(depot.call(method, f"/api/depot/shopping/{uuid.uuid4()}"), 404, "shopping list not found")
    error(Api(bot_token("bot-1")).call(method, f"/api/depot/shopping/{list_id}"), 403, "permission denied")


def test_given_completed_list_when_canceled_then_refused(depot, mall):
    error(depot.call("DELETE", f"/api/depot/shopping/{list_in(mall, 'completed')}"), 400,
          "the shopping list cannot be canceled")


def test_given_pending_list_when_initiated_then_available_once(depot, mall):
    list_id = list_in(mall, "pending")
    error(Api(bot_token("bot-1")).call("PUT", f"/api/depot/shopping/{list_id}/initiate"), 403, "permission denied")
    with capture_outbox() as captured:
        assert depot.ok("PUT", f"/api/depot/shopping/{list_id}/initiate", {}) == {}
    assert captured.messages == []
    assert depot.ok("GET", f"/api/depot/shopping/{list_id}")["shoppingList"]["status"] == "available"
    error(depot.call("PUT", f"/api/depot/shopping/{list_id}/initiate"), 400, "the shopping list cannot be initiated")
    error(depot.call("PUT", f"/api/depot/shopping/{uuid.uuid4()}/initiate"), 404, "shopping list not found")
    error(depot.call("PUT", f"/api/depot/shopping/{list_id}/initiate", "[1]"), 400,
          "the request body must be a JSON object")


# ---------------------------------------------------------------- start / pickItem / itemUnavailable / complete


def test_given_assigned_list_when_its_bot_starts_then_active_published_and_a_retry_is_a_no_op(mall):
    list_id = list_in(mall, "assigned")
    bot = Api(bot_token("bot-1"))
    with capture_outbox() as captured:
        assert bot.ok("PUT", f"/api/depot/shopping/{list_id}/start", {}) == {}
        assert bot.ok("PUT", f"/api/depot/shopping/{list_id}/start") == {}
    [message] = captured.messages
    assert (message.name, message.payload) == ("depotapi.ShoppingListStarted",
                                               {"id": list_id, "order_id": "order-1", "bot_id": "bot-1"})
    assert message.metadata["actor"] == "bot:bot-1" and message.metadata["aggregate_version"] == 4
    assert bot.ok("GET", f"/api/depot/shopping/{list_id}")["shoppingList"]["status"] == "active"


@pytest.mark.parametrize("state", ["pending", "available", "completed", "canceled"])
def test_given_list_not_assigned_when_started_then_e4(depot, mall, state):
    error(depot.call("PUT", f"/api/depot/shopping/{list_in(mall, state)}/start"), 400,
          "the shopping list cannot be started")


BOT_ENDPOINTS = [("start", {}), ("pickItem", {"productId": "x", "quantity": 1}), ("itemUnavailable", {"productId": "x"}),
                 ("complete", {})]


@pytest.mark.parametrize("endpoint,body", BOT_ENDPOINTS)
def test_given_other_bots_list_when_a_bot_acts_then_403_after_404(mall, endpoint, body):
    list_id = list_in(mall, "active", bot_id="bot-2")
    bot = Api(bot_token("bot-1"))
    error(bot.call("PUT", f"/api/depot/shopping/{uuid.uuid4()}/{endpoint}", body), 404, "shopping list not found")
    error(bot.call("PUT", f"/api/depot/shopping/{list_id}/{endpoint}", body), 403,
          "the shopping list is not assigned to this bot")
    error(Api(issue_token("kiosk", name="k")[1]).call("PUT", f"/api/depot/shopping/{list_id}/{endpoint}", body), 403,
          "permission denied")
    error(Api(staff_token("shop", "store_staff")).call("PUT", f"/api/depot/shopping/{list_id}/{endpoint}", body),
          403, "permission denied")


def test_given_bot_on_not_yet_assigned_list_when_acting_then_403_before_state_errors(mall):
    list_id = list_in(mall, "available")
    error(Api(bot_token("bot-1")).call("PUT", f"/api/depot/shopping/{list_id}/start"), 403,
          "the shopping list is not assigned to this bot")


def test_pick_item_checks_in_order(depot, mall):
    active, assigned = list_in(mall, "active", order_id="o-1"), list_in(mall, "assigned", order_id="o-2",
                                                                         bot_id="bot-2")
    url = f"/api/depot/shopping/{active}/pickItem"
    typed = depot.call("PUT", url, {"productId": mall.robot, "quantity": "x"})
    assert (typed.status_code, typed.json()["message"]) == (400, "quantity must be an integer")
    error(depot.call("PUT", f"/api/depot/shopping/{uuid.uuid4()}/pickItem", {"productId": mall.robot}), 404,
          "shopping list not found")
    error(depot.call("PUT", f"/api/depot/shopping/{assigned}/pickItem", {"productId": "none", "quantity": 0}), 400,
          "the shopping list is not active")
    error(depot.call("PUT", url, {"productId": "none", "quantity": 0}), 404, "item not found")
    error(depot.call("PUT", url, {"quantity": 1}), 404, "item not found")
    error(depot.call("PUT", url, {"productId": mall.robot, "quantity": -1}), 400,
          "the item quantity cannot be negative")
    error(depot.call("PUT", url, {"productId": mall.robot}), 400, "the item quantity cannot be zero")
    error(depot.call("PUT", url, {"productId": mall.robot, "quantity": 3}), 400,
          "the picked quantity exceeds the ordered quantity")


def test_item_unavailable_checks_in_order(depot, mall):
    active, assigned = list_in(mall, "active", order_id="o-1"), list_in(mall, "assigned", order_id="o-2",
                                                                         bot_id="bot-2")
    error(depot.call("PUT", f"/api/depot/shopping/{uuid.uuid4()}/itemUnavailable", {"productId": mall.robot}), 404,
          "shopping list not found")
    error(depot.call("PUT", f"/api/depot/shopping/{assigned}/itemUnavailable", {"productId": "none"}), 400,
          "the shopping list is not active")
    error(depot.call("PUT", f"/api/depot/shopping/{active}/itemUnavailable", {"productId": "none"}), 404,
          "item not found")


def test_given_reports_when_completed_then_picked_quantities_and_unavailable_items_are_published(mall):
    list_id = list_in(mall, "active")
    bot = Api(bot_token("bot-1"))
    url = f"/api/depot/shopping/{list_id}"
    with capture_outbox() as captured:
        bot.ok("PUT", f"{url}/pickItem", {"productId": mall.robot, "quantity": 2})
        bot.ok("PUT", f"{url}/pickItem", {"productId": mall.robot, "quantity": 1})
        bot.ok("PUT", f"{url}/itemUnavailable", {"productId": mall.novel})
        shown = bot.ok("GET", url)["shoppingList"]
        assert [(i["productId"], i["pickedQuantity"], i["status"]) for s in shown["stops"] for i in s["items"]] == [
            (mall.robot, 1, "picked"), (mall.kite, 0, "pending"), (mall.novel, 0, "unavailable")]
        assert bot.ok("PUT", f"{url}/complete", {}) == {}
    assert captured.names == ["depotapi.ShoppingListItemUnavailable", "depotapi.ShoppingListItemUnavailable",
                              "depotapi.ShoppingListCompleted", "depotapi.BotAvailable"]
    assert [m.payload for m in captured.messages] == [
        {"id": list_id, "order_id": "order-1", "store_id": mall.books, "product_id": mall.novel, "quantity": 1},
        {"id": list_id, "order_id": "order-1", "store_id": mall.toys, "product_id": mall.kite, "quantity": 1},
        {"id": list_id, "order_id": "order-1", "items": [
            {"product_id": mall.robot, "store_id": mall.toys, "quantity": 2, "picked_quantity": 1},
            {"product_id": mall.kite, "store_id": mall.toys, "quantity": 1, "picked_quantity": 0},
            {"product_id": mall.novel, "store_id": mall.books, "quantity": 1, "picked_quantity": 0}]},
        {"id": "bot-1", "name": "bot-1"},
    ]
    shown = bot.ok("GET", url)["shoppingList"]
    assert shown["status"] == "completed"
    assert [(i["pickedQuantity"], i["status"]) for s in shown["stops"] for i in s["items"]] == [
        (1, "picked"), (0, "unavailable"), (0, "unavailable")]
    error(bot.call("PUT", f"{url}/complete"), 400, "the shopping list cannot be completed")
    error(bot.call("PUT", f"{url}/pickItem", {"productId": mall.robot, "quantity": 1}), 400,
          "the shopping list is not active")


@pytest.mark.parametrize("state", ["pending", "available", "assigned", "canceled"])
def test_given_list_not_active_when_completed_by_staff_then_e6(depot, mall, state):
    error(depot.call("PUT", f"/api/depot/shopping/{list_in(mall, state)}/complete"), 400,
          "the shopping list cannot be completed")


def test_given_active_list_when_staff_complete_it_then_completed(depot, mall):
    list_id = list_in(mall, "active")
    depot.ok("PUT", f"/api/depot/shopping/{list_id}/complete")
    assert depot.ok("GET", f"/api/depot/shopping/{list_id}")["shoppingList"]["status"] == "completed"
