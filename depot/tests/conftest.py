"""Depot test helpers: tokens, a catalog built through the stores API, shopping lists in any state."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from rest_framework.test import APIClient

from access.tokens import issue_token
from depot import services
from eventstore.testing import deliver_all


def staff_token(username: str, *roles: str, superuser: bool = False) -> str:
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(username, is_staff=True, is_superuser=superuser)
    user.groups.set(Group.objects.filter(name__in=roles))
    return issue_token("staff", user=user)[1]


def bot_token(bot_id: str) -> str:
    return issue_token("bot", bot_id=bot_id)[1]


class Api:
    """JSON calls with one bearer token."""

    def __init__(self, token: str):
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def call(self, method: str, url: str, body=None):
        return self.client.generic(method, url, "" if body is None else _json(body), content_type="application/json")

    def ok(self, method: str, url: str, body=None) -> dict:
        response = self.call(method, url, body)
        assert response.status_code == 200, response.content
        return response.json()


def _json(body) -> str:
    import json

    return body if isinstance(body, str) else json.dumps(body)


@dataclass
class Catalog:
    """Stores and products created through the stores REST API (the real stores module)."""

    api: Api

    def store(self, name: str = "Toys", location: str = "Level 1") -> str:
        return self.api.ok("POST", "/api/stores", {"name": name, "location": location})["id"]

    def product(self, store_id: str, name: str = "Robot", price: str = "9.99") -> str:
        return self.api.ok("POST", f"/api/stores/{store_id}/products",
                           {"name": name, "description": "", "sku": "sku", "price": price})["id"]

    def leave(self, store_id: str) -> None:
        self.api.ok("DELETE", f"/api/stores/{store_id}/participating")

    def rejoin(self, store_id: str) -> None:
        self.api.ok("PUT", f"/api/stores/{store_id}/participating")

    def rebrand_store(self, store_id: str, name: str) -> None:
        self.api.ok("PUT", f"/api/stores/{store_id}/rebrand", {"name": name})

    def rebrand_product(self, product_id: str, name: str) -> None:
        self.api.ok("PUT", f"/api/stores/products/{product_id}/rebrand", {"name": name, "description": ""})

    def remove(self, product_id: str) -> None:
        self.api.ok("DELETE", f"/api/stores/products/{product_id}")


@pytest.fixture
def superuser_api(db) -> Api:
    return Api(staff_token("root", superuser=True))


@pytest.fixture
def catalog(superuser_api) -> Catalog:
    return Catalog(superuser_api)


@dataclass
class Mall:
    """Two stores (toys, books) with products; the depot caches follow the stores events."""

    toys: str
    books: str
    robot: str
    kite: str
    novel: str


@pytest.fixture
def mall(catalog) -> Mall:
    toys = catalog.store("Toys", "Level 1")
    books = catalog.store("Books", "Level 2")
    mall = Mall(toys=toys, books=books, robot=catalog.product(toys, "Robot"), kite=catalog.product(toys, "Kite"),
                novel=catalog.product(books, "Novel"))
    deliver_all(modules=["depot"])
    return mall


def lines(*items: tuple[str, str, int]) -> list[services.Line]:
    return [services.Line(product_id=p, store_id=s, quantity=q) for s, p, q in items]


PATHS = {
    "pending": [], "available": ["initiate"], "assigned": ["initiate", "assign"],
    "active": ["initiate", "assign", "start"], "completed": ["initiate", "assign", "start", "complete"],
    "canceled": ["cancel"],
}


def given_bot(bot_id: str = "bot-1", *, name: str = "", online: bool = True) -> str:
    """Bot ``bot_id`` registered (and online) through its aggregate, without dispatching: tests choose
    which list it gets. An existing bot is brought online if needed."""
    from django.db import transaction

    from depot.dispatch import bots
    from depot.domain import OFFLINE, Bot

    with transaction.atomic():
        bot = bots.find(bot_id)
        if bot is None:
            bot = Bot.register(bot_id, name=name or bot_id)
            if online:
                bot.go_online()
            bots.create(bot)
        elif online and bot.status == OFFLINE:
            bot.go_online()
            bots.save(bot)
    return bot_id


def list_in(mall: Mall, status: str, *, order_id: str = "order-1", bot_id: str = "bot-1") -> str:
    """A list for ``order_id`` (robot ×2, kite ×1 at toys; novel ×1 at books) moved to ``status`` by the services."""
    list_id = services.create_shopping_list(order_id=order_id, items=lines(
        (mall.toys, mall.robot, 2), (mall.books, mall.novel, 1), (mall.toys, mall.kite, 1)))
    for step in PATHS[status]:
        {
            "initiate": lambda: services.initiate_shopping(list_id=list_id),
            "assign": lambda: services.assign_shopping_list(list_id=list_id, bot_id=given_bot(bot_id)),
            "start": lambda: services.start_shopping(list_id=list_id),
            "complete": lambda: services.complete_shopping_list(list_id=list_id),
            "cancel": lambda: services.cancel_shopping_list(list_id=list_id),
        }[step]()
    return list_id
