"""The ShoppingList state machine of product.md §6.6, table-driven, without a database."""

import pytest

from depot import domain
from depot.domain import NewItem, ShoppingList
from eventstore.errors import DomainError, NotFound

E2, E3, E4, E5, E6, E7 = (domain.CANNOT_INITIATE, domain.CANNOT_ASSIGN, domain.CANNOT_START, domain.NOT_ACTIVE,
                          domain.CANNOT_COMPLETE, domain.CANNOT_CANCEL)
STATES = ["pending", "available", "assigned", "active", "completed", "canceled"]


def line(store, product, quantity=1, store_name=None, product_name=None):
    return NewItem(store_id=store, store_name=store_name or f"{store} name", store_location=f"{store} floor",
                   product_id=product, product_name=product_name or f"{product} name", quantity=quantity)


def new_list() -> ShoppingList:
    shopping_list = ShoppingList.create("list-1", order_id="order-1",
                                        items=[line("s1", "p1", 2), line("s2", "p2", 1), line("s1", "p3", 3)])
    return committed(shopping_list)


def committed(shopping_list: ShoppingList) -> ShoppingList:
    shopping_list.version += len(shopping_list.pending)
    shopping_list.pending = []
    return shopping_list


def list_in(status: str) -> ShoppingList:
    shopping_list = new_list()
    path = {"pending": [], "available": ["initiate"], "assigned": ["initiate", "assign"],
            "active": ["initiate", "assign", "start"], "completed": ["initiate", "assign", "start", "complete"],
            "canceled": ["cancel"]}[status]
    for step in path:
        if step == "assign":
            shopping_list.assign("bot-1")
        else:
            getattr(shopping_list, step)()
    assert shopping_list.status == status
    return committed(shopping_list)


def names(shopping_list: ShoppingList) -> list[str]:
    return [type(e).__name__ for e in shopping_list.pending]


COMMANDS = {
    "initiate (saga)": lambda sl: sl.initiate_for_saga(),
    "initiate (staff)": lambda sl: sl.initiate(),
    "assign": lambda sl: sl.assign("bot-9"),
    "start": lambda sl: sl.start(),
    "pick": lambda sl: sl.pick_item("p1", 1),
    "unavailable": lambda sl: sl.report_unavailable("p2"),
    "complete": lambda sl: sl.complete(),
    "cancel (staff)": lambda sl: sl.cancel(),
    "cancel (saga)": lambda sl: sl.cancel_for_saga(),
    "cancel (order)": lambda sl: sl.cancel_for_order(),
}

# Per command, per state: ("→", new state, events) | ("=",) | ("E", text)
TABLE = {
    "initiate (saga)": [("→", "available", ["ShoppingListInitiated"]), ("=",), ("=",), ("=",), ("=",), ("E", E2)],
    "initiate (staff)": [("→", "available", ["ShoppingListInitiated"]), ("E", E2), ("E", E2), ("E", E2), ("E", E2),
                         ("E", E2)],
    "assign": [("E", E3), ("→", "assigned", ["ShoppingListAssigned"]), ("E", E3), ("E", E3), ("E", E3), ("E", E3)],
    "start": [("E", E4), ("E", E4), ("→", "active", ["ShoppingListStarted"]), ("=",), ("E", E4), ("E", E4)],
    "pick": [("E", E5), ("E", E5), ("E", E5), ("→", "active", ["ShoppingListItemPicked"]), ("E", E5), ("E", E5)],
    "unavailable": [("E", E5), ("E", E5), ("E", E5), ("→", "active", ["ShoppingListItemUnavailable"]), ("E", E5),
                    ("E", E5)],
    "complete": [("E", E6), ("E", E6), ("E", E6),
                 ("→", "completed", ["ShoppingListItemUnavailable"] * 3 + ["ShoppingListCompleted"]), ("E", E6),
                 ("E", E6)],
    "cancel (staff)": [("→", "canceled", ["ShoppingListCanceled"])] * 4 + [("E", E7), ("E", E7)],
    "cancel (saga)": [("→", "canceled", ["ShoppingListCanceled"])] * 4 + [("E", E7), ("=",)],
    "cancel (order)": [("→", "canceled", ["ShoppingListCanceled"])] * 4 + [("=",), ("=",)],
}

CASES = [(command, state, outcome) for command, outcomes in TABLE.items() for state, outcome in zip(STATES, outcomes)]


@pytest.mark.parametrize("command,state,outcome", CASES, ids=[f"{c}-{s}" for c, s, _ in CASES])
def test_given_list_in_state_when_command_then_outcome_of_the_state_table(command, state, outcome):
    shopping_list = list_in(state)
    if outcome[0] == "E":
        with pytest.raises(DomainError) as refused:
            COMMANDS[command](shopping_list)
        assert refused.value.message == outcome[1]
        assert shopping_list.pending == [] and shopping_list.status == state
    elif outcome[0] == "=":
        COMMANDS[command](shopping_list)
        assert shopping_list.pending == [] and shopping_list.status == state
    else:
        COMMANDS[command](shopping_list)
        assert (shopping_list.status, names(shopping_list)) == (outcome[1], outcome[2])


def test_given_items_when_created_then_stops_follow_first_appearance_and_products_merge():
    shopping_list = ShoppingList.create("l", order_id="o", items=[
        line("s2", "p1", 1), line("s1", "p2", 2), line("s2", "p3", 1), line("s2", "p1", 4), line("s1", "p2", 1)])
    [created] = shopping_list.pending
    assert created.order_id == "o"
    assert [(s.store_id, [(i.product_id, i.quantity) for i in s.items]) for s in created.stops] == [
        ("s2", [("p1", 5), ("p3", 1)]), ("s1", [("p2", 3)])]
    assert created.stops[0].store_name == "s2 name" and created.stops[0].store_location == "s2 floor"
    assert created.to_payload()["stops"][1] == {
        "store_id": "s1", "store_name": "s1 name", "store_location": "s1 floor",
        "items": [{"product_id": "p2", "product_name": "p2 name", "quantity": 3}]}
    assert (shopping_list.status, shopping_list.assigned_bot_id) == ("pending", "")


@pytest.mark.parametrize("order_id,items,text", [
    ("  ", [line("s", "p")], domain.ORDER_ID_BLANK),
    ("", [], domain.ORDER_ID_BLANK),
    ("o", [], domain.NO_ITEMS),
    ("o", [line("s", " ")], domain.PRODUCT_ID_BLANK),
    ("o", [line("", "")], domain.PRODUCT_ID_BLANK),
    ("o", [line("", "p")], domain.STORE_ID_BLANK),
    ("o", [line("", "p", -1)], domain.STORE_ID_BLANK),
    ("o", [line("s", "p", -1)], domain.QUANTITY_NEGATIVE),
    ("o", [line("s", "p", 0)], domain.QUANTITY_ZERO),
    ("o", [line("s", "p", 1), line("s", "q", 0)], domain.QUANTITY_ZERO),
])
def test_given_bad_request_when_created_then_refused_in_check_order(order_id, items, text):
    with pytest.raises(DomainError) as refused:
        ShoppingList.create("l", order_id=order_id, items=items)
    assert refused.value.message == text


@pytest.mark.parametrize("product_store,participating,text", [
    ("other", False, domain.PRODUCT_NOT_OF_STORE),
    ("s", False, domain.STORE_NOT_PARTICIPATING),
])
def test_given_resolved_store_and_product_when_checked_then_e13_before_e1(product_store, participating, text):
    with pytest.raises(DomainError) as refused:
        domain.check_source(store_id="s", product_store_id=product_store, participating=participating)
    assert refused.value.message == text
    domain.check_source(store_id="s", product_store_id="s", participating=True)


@pytest.mark.parametrize("product,quantity,error", [
    ("p9", 1, "item not found"),
    ("", 1, "item not found"),
    ("p9", 0, "item not found"),
    ("p1", -1, domain.QUANTITY_NEGATIVE),
    ("p1", 0, domain.QUANTITY_ZERO),
    ("p1", 3, domain.PICKED_EXCEEDS_ORDERED),
])
def test_given_active_list_when_pick_is_wrong_then_refused_in_check_order(product, quantity, error):
    shopping_list = list_in("active")
    with pytest.raises((DomainError, NotFound)) as refused:
        shopping_list.pick_item(product, quantity)
    assert refused.value.message == error


def test_given_inactive_list_when_pick_unknown_item_then_not_active_comes_first():
    with pytest.raises(DomainError, match=E5):
        list_in("assigned").pick_item("p9", 0)


def test_given_reports_when_corrected_then_last_report_counts_and_sets_the_quantity():
    shopping_list = list_in("active")
    shopping_list.pick_item("p1", 1)
    shopping_list.pick_item("p1", 2)
    shopping_list.report_unavailable("p3")
    shopping_list.pick_item("p3", 3)
    shopping_list.report_unavailable("p2")
    by_product = {i.product_id: (i.picked_quantity, i.status) for i in shopping_list.items}
    assert by_product == {"p1": (2, "picked"), "p3": (3, "picked"), "p2": (0, "unavailable")}
    assert shopping_list.pending[-1] == domain.ShoppingListItemUnavailable(store_id="s2", product_id="p2", quantity=1)


def test_given_partly_reported_list_when_completed_then_only_unreported_items_become_unavailable():
    shopping_list = list_in("active")
    shopping_list.pick_item("p1", 2)
    shopping_list.report_unavailable("p2")
    shopping_list = committed(shopping_list)
    assert shopping_list.complete() == "bot-1"
    assert shopping_list.pending == [domain.ShoppingListItemUnavailable(store_id="s1", product_id="p3", quantity=3),
                                     domain.ShoppingListCompleted()]
    assert [(i.product_id, i.picked_quantity, i.status) for i in shopping_list.items] == [
        ("p1", 2, "picked"), ("p3", 0, "unavailable"), ("p2", 0, "unavailable")]


@pytest.mark.parametrize("state,released", [("pending", ""), ("available", ""), ("assigned", "bot-1"),
                                            ("active", "bot-1")])
def test_given_open_list_when_canceled_then_its_bot_is_to_be_released(state, released):
    for cancel in (ShoppingList.cancel, ShoppingList.cancel_for_saga, ShoppingList.cancel_for_order):
        assert cancel(list_in(state)) == released


def test_given_blank_bot_when_assigned_then_refused_before_the_state_check():
    with pytest.raises(DomainError, match=domain.BOT_ID_BLANK):
        list_in("pending").assign(" ")


def test_given_events_when_replayed_or_restored_from_snapshot_then_same_state():
    shopping_list = list_in("active")
    shopping_list.pick_item("p1", 1)
    state = shopping_list.snapshot_state()
    restored = ShoppingList("list-1")
    restored.restore_state(state)
    assert restored.items == shopping_list.items and restored.status == "active"
    assert restored.stops == shopping_list.stops and restored.assigned_bot_id == "bot-1"
    restored.pick_item("p1", 2)
    assert restored.item("p1").picked_quantity == 2
