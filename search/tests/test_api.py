"""POST /api/search/orders and GET /api/search/orders/{id} (api.md §4.7) over search_order rows and cache rows
written directly, so each filter, the paging, the naming of items and every error text can be pinned down."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from search import domain
from search.models import Order, ProductCache, StoreCache

pytestmark = pytest.mark.django_db
D = Decimal
T0 = dt.datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def row(order_id: str, minutes: float = 0, *, customer: str = "c1", lines=(("s1", "p1"),), total: str = "10.00",
        status: str = "pending") -> Order:
    items = [{"product_id": p, "store_id": s, "price": D("5.00"), "quantity": 2} for s, p in lines]
    for s, p in lines:
        StoreCache.objects.get_or_create(id=s, defaults={"name": f"name {s}", "version": 1})
        ProductCache.objects.get_or_create(id=p, defaults={"store_id": s, "name": f"name {p}", "version": 1})
    return Order.objects.create(
        order_id=order_id, customer_id=customer, customer_name=f"name {customer}", items=items,
        product_ids=sorted({p for _, p in lines}), store_ids=sorted({s for s, _ in lines}), total=D(total),
        status=status, created_at=at(minutes), updated_at=at(minutes + 1), version=1, items_version=1)


def ids(body: dict) -> list[str]:
    return [order["orderId"] for order in body["orders"]]


@pytest.fixture
def search(staff):
    def call(body=None, expect: int = 200):
        status, payload = staff("POST", "/api/search/orders", body)
        assert status == expect, payload
        return payload
    return call


@pytest.fixture
def mall():
    """Five orders a minute apart (o1 oldest … o5 newest) with different customers, stores, products,
    totals and statuses."""
    row("o1", 1, customer="ann", lines=[("books", "novel")], total="9.99", status="completed")
    row("o2", 2, customer="bob", lines=[("books", "atlas"), ("toys", "robot")], total="65.00", status="ready")
    row("o3", 3, customer="ann", lines=[("toys", "robot")], total="40.00", status="cancelled")
    row("o4", 4, customer="bob", lines=[("toys", "kite")], total="5.00", status="pending")
    row("o5", 5, customer="ann", lines=[("books", "novel"), ("toys", "kite")], total="40.00", status="ready")


# ---------------------------------------------------------------- access and shape


@pytest.mark.parametrize("who,expected", [
    (None, 401), ("kiosk", 403), ("bot", 403), ("store_staff", 403), ("store_admin", 403),
    ("depot_staff", 200), ("depot_admin", 200), ("superuser", 200)])
def test_both_endpoints_are_for_depot_staff(as_who, who, expected):
    row("o1")
    api = as_who(who)
    assert api("POST", "/api/search/orders", {})[0] == expected
    assert api("GET", "/api/search/orders/o1")[0] == expected


def test_a_search_order_has_every_field_with_numbers_integers_and_utc_timestamps(staff):
    StoreCache.objects.create(id="s1", name="Books", version=1)
    ProductCache.objects.create(id="p1", store_id="s1", name="Novel", version=1)
    order = Order.objects.create(
        order_id="o1", customer_id="c1", customer_name="Ann", total=D("49.95"), status="ready",
        items=[{"product_id": "p1", "store_id": "s1", "price": D("9.99"), "quantity": 5}], product_ids=["p1"],
        store_ids=["s1"],
        created_at=dt.datetime(2026, 11, 22, 11, 15, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        updated_at=T0, version=5, items_version=5)
    expected = {"orderId": "o1", "customerId": "c1", "customerName": "Ann", "total": 49.95, "status": "ready",
                "items": [{"productId": "p1", "storeId": "s1", "productName": "Novel", "storeName": "Books",
                           "price": 9.99, "quantity": 5}],
                "createdAt": "2026-11-22T10:15:30.000005Z", "updatedAt": "2026-11-22T10:00:00.123456Z"}
    assert staff("GET", f"/api/search/orders/{order.order_id}") == (200, {"order": expected})
    assert staff("GET", "/api/search/orders/o1/") == (200, {"order": expected})
    assert staff("POST", "/api/search/orders", {}) == (200, {"orders": [expected], "next": ""})


def test_items_show_the_names_the_caches_hold_now_and_a_name_they_lack_is_empty(search, staff):
    row("o1", lines=[("s1", "p1"), ("s2", "p2")])
    ProductCache.objects.filter(id="p1").update(name="Renamed", version=2)
    ProductCache.objects.filter(id="p2").delete()
    expected = [("p1", "Renamed", "name s1"), ("p2", "", "name s2")]
    [found] = search()["orders"]
    assert [(i["productId"], i["productName"], i["storeName"]) for i in found["items"]] == expected
    order = staff("GET", "/api/search/orders/o1")[1]["order"]
    assert [(i["productId"], i["productName"], i["storeName"]) for i in order["items"]] == expected


@pytest.mark.parametrize("order_id", ["nope", "x" * 65, "bad id"])
def test_get_of_an_unknown_or_malformed_id_is_404_order_not_found(staff, order_id):
    row("o1")
    assert staff("GET", f"/api/search/orders/{order_id}") == (404, {"code": 5, "message": "order not found",
                                                                      "details": []})


def test_no_filters_empty_body_and_zero_values_list_everything_newest_first(search, mall):
    newest_first = ["o5", "o4", "o3", "o2", "o1"]
    assert ids(search()) == newest_first
    assert ids(search({})) == newest_first
    zero = {"customerId": "", "after": "", "before": "", "storeIds": [], "productIds": [], "minTotal": 0,
            "maxTotal": 0, "status": ""}
    assert search({"filters": zero, "next": "", "limit": 0}) == search({"filters": None, "next": None})
    assert ids(search({"filters": zero})) == newest_first


# ---------------------------------------------------------------- each filter


@pytest.mark.parametrize("filters,expected", [
    ({"customerId": "ann"}, ["o5", "o3", "o1"]),
    ({"customer_id": "bob"}, ["o4", "o2"]),
    ({"customerId": "nobody"}, []),
    ({"status": "ready"}, ["o5", "o2"]),
    ({"status": "rejected"}, []),
    ({"storeIds": ["books"]}, ["o5", "o2", "o1"]),
    ({"storeIds": ["books", "nowhere"]}, ["o5", "o2", "o1"]),
    ({"storeIds": ["nowhere"]}, []),
    ({"productIds": ["robot", "novel"]}, ["o5", "o3", "o2", "o1"]),
    ({"product_ids": ["kite"]}, ["o5", "o4"]),
    ({"minTotal": 40}, ["o5", "o3", "o2"]),
    ({"minTotal": "40.00"}, ["o5", "o3", "o2"]),
    ({"maxTotal": 40}, ["o5", "o4", "o3", "o1"]),
    ({"maxTotal": 9.99}, ["o4", "o1"]),
    ({"minTotal": 40, "maxTotal": 40}, ["o5", "o3"]),
])
def test_each_filter(search, mall, filters, expected):
    assert ids(search({"filters": filters})) == expected


def test_after_and_before_keep_orders_created_strictly_after_and_strictly_before(search, mall):
    exactly_o2 = at(2).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert ids(search({"filters": {"after": exactly_o2}})) == ["o5", "o4", "o3"]
    assert ids(search({"filters": {"before": exactly_o2}})) == ["o1"]
    assert ids(search({"filters": {"after": "2026-11-22T11:02:00.123456+01:00",
                                   "before": "2026-11-22t10:05:00.123456z"}})) == ["o4", "o3"]
    assert ids(search({"filters": {"after": "2026-11-22T10:03:59Z"}})) == ["o5", "o4"]


def test_filters_combine_with_and(search, mall):
    body = {"filters": {"customerId": "ann", "storeIds": ["toys"], "minTotal": 40, "maxTotal": 100,
                        "status": "ready", "after": "2026-11-22T10:00:00Z", "before": "2026-11-22T11:00:00Z",
                        "productIds": ["kite", "robot"]}}
    assert ids(search(body)) == ["o5"]
    body["filters"]["status"] = "cancelled"
    assert ids(search(body)) == ["o3"]
    body["filters"]["customerId"] = "bob"
    assert ids(search(body)) == []


# ---------------------------------------------------------------- paging


def test_pages_follow_the_cursor_across_equal_created_at_without_gaps_or_repeats(search):
    for n in range(7):
        row(f"same-{n}", 3)
    row("newer", 4)
    row("older", 1)
    expected = ["newer", "same-6", "same-5", "same-4", "same-3", "same-2", "same-1", "same-0", "older"]
    seen, cursor, pages = [], "", 0
    while True:
        body = search({"limit": 2, "next": cursor})
        seen += ids(body)
        pages += 1
        cursor = body["next"]
        if cursor == "":
            break
        assert len(body["orders"]) == 2 and isinstance(cursor, str)
    assert seen == expected and pages == 5


def test_the_last_full_page_says_there_is_no_more(search):
    for n in range(4):
        row(f"o{n}", n)
    first = search({"limit": 2})
    assert ids(first) == ["o3", "o2"] and first["next"]
    second = search({"limit": 2, "next": first["next"]})
    assert ids(second) == ["o1", "o0"] and second["next"] == ""


def test_paging_keeps_the_filters(search, mall):
    first = search({"filters": {"customerId": "ann"}, "limit": 1})
    second = search({"filters": {"customerId": "ann"}, "limit": 1, "next": first["next"]})
    third = search({"filters": {"customerId": "ann"}, "limit": 1, "next": second["next"]})
    assert [ids(first), ids(second), ids(third), third["next"]] == [["o5"], ["o3"], ["o1"], ""]


def test_limit_zero_or_negative_means_20_and_above_100_means_100(search):
    Order.objects.bulk_create([Order(order_id=f"o{n:03}", customer_id="c", customer_name="", items=[],
                                     product_ids=[], store_ids=[], total=D("1.00"), status="pending",
                                     created_at=at(n), updated_at=at(n), version=1, items_version=1)
                               for n in range(105)])
    assert len(search()["orders"]) == 20
    assert len(search({"limit": -5})["orders"]) == 20
    assert len(search({"limit": 7})["orders"]) == 7
    page = search({"limit": 1000})
    assert len(page["orders"]) == 100 and page["next"]
    assert ids(search({"limit": 100, "next": page["next"]})) == ["o004", "o003", "o002", "o001", "o000"]


# ---------------------------------------------------------------- errors


def bad(search, body, message: str, details: list | None = None):
    payload = search(body, expect=400)
    assert payload["code"] == 3 and payload["message"] == message, payload
    if details is not None:
        assert payload["details"] == details
    return payload


@pytest.mark.parametrize("body,field,text", [
    ({"filters": {"minTotal": "lots"}}, "filters.minTotal", "must be a number"),
    ({"filters": {"maxTotal": True}}, "filters.maxTotal", "must be a number"),
    ({"filters": {"minTotal": 1e12}}, "filters.minTotal", "is out of range"),
    ({"filters": {"customerId": 5}}, "filters.customerId", "must be a string"),
    ({"filters": {"status": ["ready"]}}, "filters.status", "must be a string"),
    ({"filters": {"storeIds": "books"}}, "filters.storeIds", "must be a list"),
    ({"filters": {"productIds": ["novel", 7]}}, "filters.productIds[1]", "must be a string"),
    ({"filters": {"after": "yesterday"}}, "filters.after", "must be an RFC 3339 timestamp"),
    ({"filters": {"after": "2026-11-22"}}, "filters.after", "must be an RFC 3339 timestamp"),
    ({"filters": {"before": "2026-11-22T10:00:00"}}, "filters.before", "must be an RFC 3339 timestamp"),
    ({"filters": {"before": "2026-11-22 10:00:00Z"}}, "filters.before", "must be an RFC 3339 timestamp"),
    ({"filters": {"before": "2026-11-22T10:00Z"}}, "filters.before", "must be an RFC 3339 timestamp"),
    ({"filters": {"before": "20261122T100000Z"}}, "filters.before", "must be an RFC 3339 timestamp"),
    ({"filters": {"before": "2026-02-30T10:00:00Z"}}, "filters.before", "must be an RFC 3339 timestamp"),
    ({"filters": {"before": 1700000000}}, "filters.before", "must be an RFC 3339 timestamp"),
    ({"filters": "all"}, "filters", "must be an object"),
    ({"next": 3}, "next", "must be a string"),
    ({"limit": "many"}, "limit", "must be an integer"),
    ({"limit": 2.5}, "limit", "must be an integer"),
    ({"limit": 2**31}, "limit", "is out of range"),
])
def test_type_errors_name_the_field_path(search, body, field, text):
    bad(search, body, f"{field} {text}", [{"field": field, "message": f"{field} {text}"}])


def test_several_type_errors_are_all_listed_the_first_is_the_message(search):
    payload = bad(search, {"filters": {"minTotal": "x", "storeIds": 1}, "limit": "y"},
                  "filters.storeIds must be a list")
    assert {d["field"] for d in payload["details"]} == {"filters.minTotal", "filters.storeIds", "limit"}


def test_malformed_or_non_object_bodies(staff):
    for raw, message in [("{", "the request body is not valid JSON"), ("[]", "the request body must be a JSON object"),
                         ('"x"', "the request body must be a JSON object")]:
        status, payload = staff("POST", "/api/search/orders", raw)
        assert (status, payload["message"]) == (400, message)


@pytest.mark.parametrize("status", ["READY", "canceled", "in progress", "done"])
def test_an_unknown_status_is_refused_with_its_value(search, status):
    bad(search, {"filters": {"status": status}}, f"unknown order status: {status}", [])


def test_a_minimum_above_the_maximum_is_refused_only_when_both_are_set(search, mall):
    bad(search, {"filters": {"minTotal": 10.01, "maxTotal": 10}},
        "the minimum total cannot be greater than the maximum total", [])
    assert ids(search({"filters": {"minTotal": 10.01, "maxTotal": 0}})) == ["o5", "o3", "o2"]
    assert ids(search({"filters": {"minTotal": 10, "maxTotal": 10}})) == []


@pytest.mark.parametrize("cursor", [
    "not a cursor", "!!!!", "e30", domain.encode_cursor(domain.Cursor(T0, "o1"))[:-3],
    "WyIyMDI2LTExLTIyIiwibzEiXQ",  # ["2026-11-22","o1"]
    "WyIyMDI2LTExLTIyVDEwOjAwOjAwLjAwMDAwMFoiLCJiYWQgaWQiXQ",  # ["2026-11-22T10:00:00.000000Z","bad id"]
    "WyIyMDI2LTExLTIyVDEwOjAwOjAwLjAwMDAwMFoiLDVd",  # ["2026-11-22T10:00:00.000000Z",5]
    "A" * 300,
])
def test_a_cursor_that_cannot_be_decoded_is_refused(search, cursor):
    bad(search, {"next": cursor}, "the next cursor is invalid", [])


def test_checks_come_in_the_order_of_the_spec(search):
    everything_wrong = {"filters": {"status": "done", "minTotal": 5, "maxTotal": 1}, "next": "garbage"}
    bad(search, {**everything_wrong, "limit": "x"}, "limit must be an integer")
    bad(search, everything_wrong, "unknown order status: done")
    everything_wrong["filters"]["status"] = "ready"
    bad(search, everything_wrong, "the minimum total cannot be greater than the maximum total")
    everything_wrong["filters"]["maxTotal"] = 0
    bad(search, everything_wrong, "the next cursor is invalid")


# ---------------------------------------------------------------- bounded input


def test_more_than_100_ids_in_a_list_is_refused(search):
    bad(search, {"filters": {"storeIds": [f"s{n}" for n in range(101)]}},
        "filters.storeIds has too many items")
    bad(search, {"filters": {"productIds": ["p"] * 101}}, "filters.productIds has too many items")
    assert search({"filters": {"productIds": ["p"] * 100}})["orders"] == []


def test_malformed_ids_in_filters_match_nothing(search, mall):
    assert ids(search({"filters": {"customerId": "a" * 10000}})) == []
    assert ids(search({"filters": {"customerId": "ann; drop table"}})) == []
    assert ids(search({"filters": {"storeIds": ["x" * 65, "bad id"]}})) == []
    assert ids(search({"filters": {"storeIds": ["x" * 65, "books"]}})) == ["o5", "o2", "o1"]
    assert ids(search({"filters": {"productIds": ["", "kite"]}})) == ["o5", "o4"]


def test_a_huge_status_or_cursor_is_a_400_not_a_500(search):
    payload = search({"filters": {"status": "x" * 5000}}, expect=400)
    assert payload["message"] == "filters.status is too long"
    assert search({"filters": {"status": "x" * 500}}, expect=400)["message"].startswith("unknown order status: x")
    bad(search, {"next": "W" * 100000}, "the next cursor is invalid")
    assert json.dumps(search({"filters": {"customerId": "é" * 64}}))


def test_openapi_schema_names_both_search_operations_with_their_bodies(client):
    schema = client.get("/api/schema/?format=json").json()
    operations = {(path, method): op["operationId"] for path, item in schema["paths"].items()
                  for method, op in item.items() if path.startswith("/api/search")}
    assert operations == {("/api/search/orders", "post"): "searchOrders",
                          ("/api/search/orders/{order_id}", "get"): "getSearchOrder"}
    components = schema["components"]["schemas"]
    assert set(components["SearchOrderOut"]["properties"]) == {
        "orderId", "customerId", "customerName", "items", "total", "status", "createdAt", "updatedAt"}
    assert set(components["FiltersInRequest"]["properties"]) == {
        "customerId", "after", "before", "storeIds", "productIds", "minTotal", "maxTotal", "status"}
    assert components["SearchItemOut"]["properties"]["quantity"]["type"] == "integer"


def test_depot_staff_browse_search_orders_in_the_admin_with_the_order_history(client):
    from access.testing import make_user
    from mallbots_site.tests.scenario import a_day_at_the_mall

    mall = a_day_at_the_mall()
    client.force_login(make_user("stocker", "store_staff"))
    assert client.get("/admin/search/order/").status_code == 403
    client.force_login(make_user("desk", "depot_staff"))
    page = client.get("/admin/search/order/?status=ready")
    assert page.status_code == 200 and mall.orders["ready"].encode() in page.content
    change = client.get(f"/admin/search/order/{mall.orders['completed']}/change/")
    assert change.status_code == 200 and b"ordering.OrderCompleted" in change.content
    assert client.post(f"/admin/search/order/{mall.orders['completed']}/delete/").status_code == 403


@pytest.mark.parametrize("hostile", ["a\x00b", "\ud800", "x" * 500_000])
def test_hostile_ids_and_cursors_match_nothing_or_are_invalid_never_a_server_error(search, hostile):
    assert search({"filters": {"customerId": hostile}})["orders"] == []
    bad(search, {"next": hostile}, "the next cursor is invalid")
    if len(hostile) < 1000:
        bad(search, {"filters": {"storeIds": [hostile]}}, "filters.storeIds[0] contains an invalid character")


def test_timestamps_with_any_offset_are_compared_in_utc(search):
    assert search({"filters": {"after": "0089-05-31T07:31:40.59-18:53"}})["orders"] is not None
    bad(search, {"filters": {"before": "0001-01-01T00:00:00+01:00"}}, "filters.before is out of range")
