"""Bots and dispatch (product.md F4, F7; api.md §4.6) against real PostgreSQL: the services, the five bot
endpoints and manual assignment, and two dispatchers racing."""

import threading
import uuid

import pytest
from django.db import connection

from access.tokens import issue_token
from depot import models, services
from depot.tests.conftest import Api, bot_token, given_bot, lines, list_in, staff_token
from eventstore.errors import DomainError, Forbidden, NotFound
from eventstore.models import StoredEvent
from eventstore.testing import capture_outbox

pytestmark = pytest.mark.django_db


def bot_row(bot_id: str) -> models.Bot:
    return models.Bot.objects.get(id=bot_id)


def status_of(list_id: str) -> tuple[str, str]:
    row = models.ShoppingList.objects.get(id=list_id)
    return row.status, row.assigned_bot_id


def error(response, status, message):
    assert (response.status_code, response.json()) == (status, {"code": {400: 3, 401: 16, 403: 7, 404: 5}[status],
                                                                 "message": message, "details": []})


# ---------------------------------------------------------------- services and dispatch


def test_given_a_registered_bot_when_it_goes_online_then_it_is_idle_and_published_as_available():
    with capture_outbox() as registered:
        bot_id = services.register_bot(name="  Robo ")
    assert registered.messages == []
    row = bot_row(bot_id)
    assert (row.name, row.status, row.shopping_list_id, row.available_since, row.version) == (
        "Robo", "offline", "", None, 1)
    with capture_outbox() as online:
        services.bot_online(bot_id=bot_id)
    [message] = online.messages
    assert (message.name, message.subject, message.payload) == (
        "depotapi.BotAvailable", "mallbots.depot.events.Bot", {"id": bot_id, "name": "Robo"})
    assert message.metadata["aggregate_type"] == "depot.Bot" and message.metadata["aggregate_version"] == 2
    assert bot_row(bot_id).status == "idle" and bot_row(bot_id).available_since is not None
    with capture_outbox() as offline:
        services.bot_offline(bot_id=bot_id)
    assert [(m.name, m.payload) for m in offline.messages] == [
        ("depotapi.BotUnavailable", {"id": bot_id, "name": "Robo", "status": "offline"})]
    assert (bot_row(bot_id).status, bot_row(bot_id).available_since) == ("offline", None)


def test_given_an_available_list_when_a_bot_comes_online_then_dispatch_assigns_it_in_the_same_transaction(mall):
    list_id = list_in(mall, "available")
    bot_id = services.register_bot(name="Robo")
    with capture_outbox() as captured:
        services.bot_online(bot_id=bot_id)
    assert captured.names == ["depotapi.BotAvailable", "depotapi.BotUnavailable"]
    assert captured.messages[1].payload == {"id": bot_id, "name": "Robo", "status": "active"}
    assert status_of(list_id) == ("assigned", bot_id)
    assert (bot_row(bot_id).status, bot_row(bot_id).shopping_list_id) == ("active", list_id)
    assert [e.event_name for e in StoredEvent.objects.filter(stream_id=list_id).order_by("version")][-1] == (
        "depot.ShoppingListAssigned")


def test_dispatch_reads_the_next_list_and_the_next_bot_in_one_statement(mall):
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    from depot import dispatch

    list_in(mall, "available")
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        assert dispatch.dispatch() == 0
    [read] = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().startswith("SELECT (")]
    assert "depot_shoppinglist" in read and "depot_bot" in read
    assert sum("depot_bot" in q["sql"] for q in captured.captured_queries) == 1


def test_the_oldest_available_list_goes_to_the_bot_idle_the_longest(mall):
    first_bot, second_bot = services.register_bot(name="A"), services.register_bot(name="B")
    services.bot_online(bot_id=second_bot)
    services.bot_online(bot_id=first_bot)
    older = list_in(mall, "available", order_id="o-1")
    newer = list_in(mall, "available", order_id="o-2")
    assert status_of(older) == ("assigned", second_bot)
    assert status_of(newer) == ("assigned", first_bot)


def test_given_waiting_lists_when_a_bot_completes_its_list_then_it_is_released_and_takes_the_oldest_waiting_one(mall):
    bot_id = services.register_bot(name="Robo")
    services.bot_online(bot_id=bot_id)
    shopped = list_in(mall, "available", order_id="o-1")
    waiting_older, waiting_newer = (list_in(mall, "available", order_id="o-2"),
                                    list_in(mall, "available", order_id="o-3"))
    services.start_shopping(list_id=shopped, acting_bot_id=bot_id)
    with capture_outbox() as captured:
        services.complete_shopping_list(list_id=shopped, acting_bot_id=bot_id)
    assert captured.names[-3:] == ["depotapi.ShoppingListCompleted", "depotapi.BotAvailable",
                                   "depotapi.BotUnavailable"]
    assert status_of(waiting_older) == ("assigned", bot_id)
    assert status_of(waiting_newer) == ("available", "")
    assert [e.event_name for e in StoredEvent.objects.filter(stream_id=bot_id).order_by("version")] == [
        "depot.BotRegistered", "depot.BotWentOnline", "depot.BotAssigned", "depot.BotReleased", "depot.BotAssigned"]


def test_given_an_assigned_bot_when_its_list_is_canceled_then_it_is_released_and_can_go_offline(mall):
    bot_id = services.register_bot(name="Robo")
    services.bot_online(bot_id=bot_id)
    list_id = list_in(mall, "available")
    with pytest.raises(DomainError) as refused:
        services.bot_offline(bot_id=bot_id)
    assert refused.value.message == "the bot cannot go offline while shopping"
    services.cancel_shopping_list(list_id=list_id)
    assert (bot_row(bot_id).status, bot_row(bot_id).shopping_list_id) == ("idle", "")
    services.bot_offline(bot_id=bot_id)


def test_a_bot_acts_only_on_its_own_record():
    mine, theirs = services.register_bot(name="A"), services.register_bot(name="B")
    with pytest.raises(Forbidden):
        services.bot_online(bot_id=theirs, acting_bot_id=mine)
    services.bot_online(bot_id=mine, acting_bot_id=mine)
    with pytest.raises(NotFound):
        services.bot_online(bot_id=str(uuid.uuid4()), acting_bot_id=mine)


def test_manual_assignment_checks_in_order(mall):
    available = list_in(mall, "available", order_id="o-1")
    pending = list_in(mall, "pending", order_id="o-2")
    offline = services.register_bot(name="Off")
    cases = [
        (str(uuid.uuid4()), "x", NotFound, "shopping list not found"),
        (available, "  ", DomainError, "the bot id cannot be blank"),
        (available, str(uuid.uuid4()), NotFound, "bot not found"),
        (pending, offline, DomainError, "the shopping list cannot be assigned"),
        (available, offline, DomainError, "the bot is not available"),
    ]
    for list_id, bot_id, error_type, text in cases:
        with pytest.raises(error_type) as refused:
            services.assign_shopping_list(list_id=list_id, bot_id=bot_id)
        assert refused.value.message == text
    assert status_of(available) == ("available", "")


def test_the_sweep_assigns_what_dispatch_missed(mall):
    bot_id = services.register_bot(name="Robo")
    services.bot_online(bot_id=bot_id)
    services.bot_offline(bot_id=bot_id)
    list_id = list_in(mall, "available")
    assert services.dispatch_sweep() == 0
    given_bot(bot_id)
    assert status_of(list_id) == ("available", "")
    assert services.dispatch_sweep() == 1
    assert status_of(list_id) == ("assigned", bot_id)


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_racing_never_give_one_bot_two_lists_or_one_list_two_bots(mall):
    list_ids = [services.create_shopping_list(order_id=f"race-{n}", items=lines((mall.toys, mall.robot, 1)))
                for n in range(8)]
    for list_id in list_ids:
        services.initiate_shopping(list_id=list_id)
    bot_ids = [services.register_bot(name=f"racer-{n}") for n in range(5)]
    start = threading.Barrier(len(bot_ids) + 3)
    failures: list[BaseException] = []

    def run(work) -> None:
        try:
            start.wait(10)
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)
        finally:
            connection.close()

    def sweeps() -> None:
        for _ in range(5):
            services.dispatch_sweep()

    workers = [threading.Thread(target=run, args=(lambda b=b: services.bot_online(bot_id=b),)) for b in bot_ids]
    workers += [threading.Thread(target=run, args=(sweeps,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)

    assert failures == []
    lists = {row.id: row for row in models.ShoppingList.objects.filter(id__in=list_ids)}
    bots = {row.id: row for row in models.Bot.objects.filter(id__in=bot_ids)}
    assigned = {list_id: row.assigned_bot_id for list_id, row in lists.items() if row.status == "assigned"}
    assert len(assigned) == len(bot_ids)
    assert sorted(assigned.values()) == sorted(bot_ids)
    assert all(bots[bot_id].status == "active" and bots[bot_id].shopping_list_id == list_id
               for list_id, bot_id in assigned.items())
    for bot_id in bot_ids:
        assert StoredEvent.objects.filter(stream_id=bot_id, event_name="depot.BotAssigned").count() == 1
    for list_id in list_ids:
        assert StoredEvent.objects.filter(stream_id=list_id, event_name="depot.ShoppingListAssigned").count() <= 1


# ---------------------------------------------------------------- the bot endpoints


@pytest.fixture
def admin(db) -> Api:
    return Api(staff_token("chief", "depot_admin"))


@pytest.fixture
def desk(db) -> Api:
    return Api(staff_token("desk", "depot_staff"))


def test_register_list_get_and_toggle_bots_over_http(admin, desk):
    robo = admin.ok("POST", "/api/depot/bots", {"name": "Robo"})["id"]
    alpha = admin.ok("POST", "/api/depot/bots", {"name": "Alpha"})["id"]
    assert uuid.UUID(robo).version == 4
    assert desk.ok("GET", "/api/depot/bots") == {"bots": [
        {"id": alpha, "name": "Alpha", "status": "offline", "available": False, "shoppingListId": ""},
        {"id": robo, "name": "Robo", "status": "offline", "available": False, "shoppingListId": ""}]}
    assert admin.ok("PUT", f"/api/depot/bots/{robo}/online", {}) == {}
    assert desk.ok("GET", f"/api/depot/bots/{robo}") == {"bot": {
        "id": robo, "name": "Robo", "status": "idle", "available": True, "shoppingListId": ""}}
    assert [b["id"] for b in desk.ok("GET", "/api/depot/bots?status=idle")["bots"]] == [robo]
    error(desk.call("GET", "/api/depot/bots?status=asleep"), 400, "unknown bot status: asleep")
    error(admin.call("PUT", f"/api/depot/bots/{robo}/online", {}), 400, "the bot is already online")
    assert admin.ok("PUT", f"/api/depot/bots/{robo}/offline", {}) == {}
    error(admin.call("PUT", f"/api/depot/bots/{robo}/offline", {}), 400, "the bot is already offline")
    error(admin.call("POST", "/api/depot/bots", {"name": " "}), 400, "the bot name cannot be blank")
    for path in ("", "/online", "/offline"):
        method = "GET" if not path else "PUT"
        error(admin.call(method, f"/api/depot/bots/{uuid.uuid4()}{path}", {} if path else None), 404, "bot not found")
        error(admin.call(method, f"/api/depot/bots/bad%20id{path}", {} if path else None), 404, "bot not found")


def test_bot_endpoints_enforce_their_access_levels(admin, desk):
    robo = admin.ok("POST", "/api/depot/bots", {"name": "Robo"})["id"]
    other = admin.ok("POST", "/api/depot/bots", {"name": "Other"})["id"]
    own, foreign = Api(bot_token(robo)), Api(bot_token(other))
    error(desk.call("POST", "/api/depot/bots", {"name": "X"}), 403, "permission denied")
    error(desk.call("PUT", f"/api/depot/bots/{robo}/online", {}), 403, "permission denied")
    error(own.call("GET", "/api/depot/bots"), 403, "permission denied")
    error(own.call("POST", "/api/depot/bots", {"name": "X"}), 403, "permission denied")
    error(foreign.call("GET", f"/api/depot/bots/{robo}"), 403, "permission denied")
    error(foreign.call("PUT", f"/api/depot/bots/{robo}/online", {}), 403, "permission denied")
    error(foreign.call("GET", f"/api/depot/bots/{uuid.uuid4()}"), 404, "bot not found")
    assert own.ok("PUT", f"/api/depot/bots/{robo}/online", {}) == {}
    assert own.ok("GET", f"/api/depot/bots/{robo}")["bot"]["status"] == "idle"
    assert own.ok("PUT", f"/api/depot/bots/{robo}/offline", {}) == {}
    kiosk = Api(issue_token("kiosk", name="k")[1])
    error(kiosk.call("GET", f"/api/depot/bots/{robo}"), 403, "permission denied")
    [event] = StoredEvent.objects.filter(stream_id=robo, event_name="depot.BotWentOnline")
    assert event.metadata["actor"] == f"bot:{robo}"


def test_the_bot_learns_its_assignment_from_its_record_and_reads_only_its_list(admin, desk, mall):
    robo = admin.ok("POST", "/api/depot/bots", {"name": "Robo"})["id"]
    bot = Api(bot_token(robo))
    bot.ok("PUT", f"/api/depot/bots/{robo}/online", {})
    list_id = list_in(mall, "available", order_id="o-1")
    other = list_in(mall, "available", order_id="o-2")
    assert bot.ok("GET", f"/api/depot/bots/{robo}")["bot"]["shoppingListId"] == list_id
    assert bot.ok("GET", f"/api/depot/shopping/{list_id}")["shoppingList"]["assignedBotId"] == robo
    error(bot.call("GET", f"/api/depot/shopping/{other}"), 403, "the shopping list is not assigned to this bot")


def test_manual_assignment_over_http_checks_in_order(admin, desk, mall):
    available, pending = list_in(mall, "available", order_id="o-1"), list_in(mall, "pending", order_id="o-2")
    offline = admin.ok("POST", "/api/depot/bots", {"name": "Off"})["id"]
    idle = admin.ok("POST", "/api/depot/bots", {"name": "Idle"})["id"]  # registered, offline until given_bot
    error(desk.call("PUT", f"/api/depot/shopping/{uuid.uuid4()}/assign", {"botId": idle}), 404,
          "shopping list not found")
    error(desk.call("PUT", f"/api/depot/shopping/{available}/assign", {}), 400, "the bot id cannot be blank")
    error(desk.call("PUT", f"/api/depot/shopping/{available}/assign", {"botId": str(uuid.uuid4())}), 404,
          "bot not found")
    error(desk.call("PUT", f"/api/depot/shopping/{pending}/assign", {"botId": offline}), 400,
          "the shopping list cannot be assigned")
    error(desk.call("PUT", f"/api/depot/shopping/{available}/assign", {"botId": offline}), 400,
          "the bot is not available")
    error(Api(bot_token(idle)).call("PUT", f"/api/depot/shopping/{available}/assign", {"botId": idle}), 403,
          "permission denied")
    given_bot(idle)
    assert desk.ok("PUT", f"/api/depot/shopping/{available}/assign", {"bot_id": idle}) == {}
    assert status_of(available) == ("assigned", idle)
