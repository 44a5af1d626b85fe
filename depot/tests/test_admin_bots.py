"""Bots and assignment in the admin (architecture.md §13): the same services and access levels as the API."""

import pytest

from depot import models, services
from depot.tests.conftest import given_bot, list_in
from depot.tests.test_services import depot_user
from eventstore.models import StoredEvent

pytestmark = pytest.mark.django_db
BOTS = "/admin/depot/bot/"
LISTS = "/admin/depot/shoppinglist/"


def test_a_depot_admin_registers_a_bot_brings_it_online_and_sees_its_history(client):
    client.force_login(depot_user("chief", "depot_admin"))
    response = client.post(f"{BOTS}add/", {"name": "  "})
    assert b"the bot name cannot be blank" in response.content and not models.Bot.objects.exists()
    client.post(f"{BOTS}add/", {"name": "Robo"})
    bot = models.Bot.objects.get()
    assert (bot.name, bot.status) == ("Robo", "offline")
    client.post(BOTS, {"action": "bring_online", "_selected_action": [bot.pk]})
    assert models.Bot.objects.get().status == "idle"
    response = client.post(BOTS, {"action": "bring_online", "_selected_action": [bot.pk]}, follow=True)
    assert b"the bot is already online" in response.content
    page = client.get(f"{BOTS}{bot.pk}/change/")
    assert page.status_code == 200 and b"depot.BotWentOnline" in page.content
    assert StoredEvent.objects.get(stream_id=bot.pk, event_name="depot.BotRegistered").metadata["actor"] == (
        "staff:chief")


def test_depot_staff_see_bots_but_cannot_register_them_or_switch_them(client):
    bot_id = services.register_bot(name="Robo")
    client.force_login(depot_user("desk", "depot_staff"))
    assert client.get(BOTS).status_code == 200
    assert client.get(f"{BOTS}add/").status_code == 403
    client.post(BOTS, {"action": "bring_online", "_selected_action": [bot_id]})
    assert models.Bot.objects.get().status == "offline"


def test_store_staff_do_not_see_bots(client):
    client.force_login(depot_user("shop", "store_staff"))
    assert client.get(BOTS).status_code == 403


def test_assign_choose_bot_gives_the_list_to_the_chosen_idle_bot(client, mall):
    list_id = list_in(mall, "available")
    first, chosen = given_bot("bot-first"), given_bot("bot-chosen")
    client.force_login(depot_user("desk", "depot_staff"))
    response = client.post(LISTS, {"action": "assign_lists", "_selected_action": [list_id]}, follow=True)
    assert b"Choose an idle bot" in response.content
    client.post(LISTS, {"action": "assign_lists", "_selected_action": [list_id], "bot": chosen})
    row = models.ShoppingList.objects.get(id=list_id)
    assert (row.status, row.assigned_bot_id) == ("assigned", chosen)
    response = client.post(LISTS, {"action": "assign_lists", "_selected_action": [list_id], "bot": first},
                           follow=True)
    assert b"the shopping list cannot be assigned" in response.content
