"""The access matrix of quality.md §3 as one table-driven test: every API operation (read from the served
OpenAPI schema, so a new one is included, and must be given its level below) × every kind of caller, against
the level api.md §4 gives it (§2.3 says who passes which level).

A caller the level lets through must not get 401 or 403 (what it gets then — 200, 400, 404 — is the
modules' tests' business); any other caller gets 401 ``authentication required`` (no credentials), 401
``invalid token`` (unknown, revoked or expired token, deactivated user) or 403. Path ids name a real order's
bot and shopping list (so a bot token meets the object check after the 404, api.md §4.6) and unknown ids
elsewhere; each request runs in a savepoint that is rolled back, so no call changes what the next one sees.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from access.models import ApiToken
from access.testing import make_user
from access.tokens import issue_token
from mallbots_site.tests.orders import given_ready_order

pytestmark = pytest.mark.django_db

LEVELS = {
    # stores (api.md §4.1)
    "createStore": "StoreStaff", "enableParticipation": "StoreAdmin", "disableParticipation": "StoreAdmin",
    "rebrandStore": "StoreStaff", "getStores": "Kiosk", "getStore": "Kiosk", "getParticipatingStores": "Kiosk",
    "addProduct": "StoreStaff", "rebrandProduct": "StoreStaff", "increaseProductPrice": "StoreStaff",
    "decreaseProductPrice": "StoreStaff", "removeProduct": "StoreStaff", "getProduct": "Kiosk",
    "getStoreProducts": "Kiosk",
    # customers (§4.2)
    "registerCustomer": "Kiosk", "getCustomer": "Kiosk", "changeSmsNumber": "Kiosk", "enableCustomer": "DepotAdmin",
    "disableCustomer": "DepotAdmin",
    # baskets (§4.3)
    "startBasket": "Kiosk", "getBasket": "Kiosk", "cancelBasket": "Kiosk", "checkoutBasket": "Kiosk",
    "addItem": "Kiosk", "removeItem": "Kiosk",
    # ordering (§4.4)
    "createOrder": "Kiosk", "getOrder": "Kiosk", "cancelOrder": "Kiosk", "readyOrder": "DepotStaff",
    "completeOrder": "DepotStaff",
    # payments (§4.5)
    "authorizePayment": "Kiosk", "payInvoice": "DepotStaff", "getPayment": "Kiosk", "getInvoice": "DepotStaff",
    # depot (§4.6)
    "createShoppingList": "DepotStaff", "cancelShoppingList": "DepotStaff", "assignShoppingList": "DepotStaff",
    "completeShoppingList": "Bot+DepotStaff", "deleteShoppingList": "DepotStaff", "listShoppingLists": "DepotStaff",
    "getShoppingList": "Bot+DepotStaff", "initiateShopping": "DepotStaff", "startShopping": "Bot+DepotStaff",
    "pickItem": "Bot+DepotStaff", "reportItemUnavailable": "Bot+DepotStaff", "registerBot": "DepotAdmin",
    "listBots": "DepotStaff", "getBot": "Bot+DepotStaff", "botOnline": "Bot+DepotAdmin",
    "botOffline": "Bot+DepotAdmin",
    # search (§4.7)
    "searchOrders": "DepotStaff", "getSearchOrder": "DepotStaff",
}
# api.md §5: served outside the schema's operations.
PUBLIC_PATHS = {"/api/schema": "Public", "/api/docs": "Public", "/api/asyncapi": "Public"}

STAFF = {"store_staff", "store_admin", "depot_staff", "depot_admin", "superuser"}
PASSES = {
    "Public": {"anonymous", "invalid", "revoked", "expired", "deactivated", "kiosk", "bot", "other_bot", "no_role",
               *STAFF},
    "Kiosk": {"kiosk", *STAFF},
    "StoreStaff": {"store_staff", "store_admin", "superuser"},
    "StoreAdmin": {"store_admin", "superuser"},
    "DepotStaff": {"depot_staff", "depot_admin", "superuser"},
    "DepotAdmin": {"depot_admin", "superuser"},
    "Bot+DepotStaff": {"bot", "depot_staff", "depot_admin", "superuser"},
    "Bot+DepotAdmin": {"bot", "depot_admin", "superuser"},
}
CALLERS = ("anonymous", "invalid", "revoked", "expired", "deactivated", "kiosk", "bot", "other_bot", "no_role",
           "store_staff", "store_admin", "depot_staff", "depot_admin", "superuser")
INVALID = {"invalid", "revoked", "expired", "deactivated"}


def schema_operations(client) -> list[tuple[str, str, str]]:
    """(operationId, METHOD, path template) of every operation of the served schema."""
    schema = client.get("/api/schema/?format=json").json()
    return [(operation["operationId"], method.upper(), path) for path, item in schema["paths"].items()
            for method, operation in item.items()]


def api_routes() -> set[str]:
    """Every URL pattern under ``api/`` as a path template (``<str:id>`` → ``{id}``)."""
    found = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = "/" + prefix + str(pattern.pattern)
                if route.startswith("/api"):
                    found.add(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).rstrip("/"))

    walk(get_resolver().url_patterns, "")
    return found


def tokens(bot_id: str) -> dict[str, str | None]:
    """One credential per caller kind; the invalid ones are broken the way api.md §2.1 names."""
    revoked, revoked_raw = issue_token("kiosk", name="revoked")
    revoked.revoked_at = timezone.now()
    revoked.save()
    expired, expired_raw = issue_token("kiosk", name="expired", expires_days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    leaver = make_user("leaver", "depot_admin", superuser=True)
    deactivated_raw = issue_token("staff", user=leaver)[1]
    leaver.is_active = False
    leaver.save()
    found = {
        "anonymous": None, "invalid": "staff_" + "x" * 40, "revoked": revoked_raw, "expired": expired_raw,
        "deactivated": deactivated_raw, "kiosk": issue_token("kiosk", name="desk")[1],
        "bot": issue_token("bot", bot_id=bot_id)[1], "other_bot": issue_token("bot", bot_id=str(uuid.uuid4()))[1],
        "no_role": issue_token("staff", user=make_user("nobody"))[1],
        "superuser": issue_token("staff", user=make_user("root", superuser=True))[1],
    }
    for role in ("store_staff", "store_admin", "depot_staff", "depot_admin"):
        found[role] = issue_token("staff", user=make_user(f"user-{role}", role))[1]
    return found


def concrete(path: str, bot_id: str, list_id: str) -> str:
    """The path with the order's bot and list where the template names them, unknown ids elsewhere."""
    if path.startswith("/api/depot/bots/"):
        path = path.replace("{bot_id}", bot_id)
    if path.startswith("/api/depot/shopping/"):
        path = path.replace("{list_id}", list_id)
    return re.sub(r"\{\w+\}", lambda _: str(uuid.uuid4()), path)


def verdict(level: str, path: str, caller: str, status: int, message: str) -> str | None:
    """What is wrong with the answer, or ``None``."""
    if caller in PASSES[level]:
        return None if status not in (401, 403) else f"{status} {message!r} for a caller the level lets through"
    if caller == "anonymous":
        expected = (401, "authentication required")
    elif caller in INVALID:
        expected = (401, "invalid token")
    elif caller == "other_bot" and level.startswith("Bot+") and path.startswith("/api/depot/shopping/"):
        expected = (403, "the shopping list is not assigned to this bot")
    else:
        expected = (403, "permission denied")
    return None if (status, message) == expected else f"{status} {message!r}, expected {expected}"


def test_every_endpoint_answers_every_kind_of_caller_as_its_access_level_says(client):
    operations = schema_operations(client)
    assert {op for op, _, _ in operations} == set(LEVELS), "give every operation of the schema its level"
    assert api_routes() == {path for _, _, path in operations} | set(PUBLIC_PATHS), \
        "every /api/ route must be an operation of the schema (or a public path listed here)"
    order = given_ready_order()
    credentials = tokens(order.bot_id)
    calls = [(op, method, path, LEVELS[op]) for op, method, path in operations]
    calls += [(path, "GET", path + "/", level) for path, level in PUBLIC_PATHS.items()]
    wrong = []
    for operation, method, path, level in calls:
        url = concrete(path, order.bot_id, order.shopping_id)
        for caller in CALLERS:
            raw = credentials[caller]
            headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"} if raw else {}
            with transaction.atomic():
                response = client.generic(method, url, "{}" if method in ("POST", "PUT") else "",
                                          content_type="application/json", **headers)
                transaction.set_rollback(True)
            message = response.json().get("message", "") if response.status_code in (401, 403) and \
                response["Content-Type"].startswith("application/json") else ""
            problem = verdict(level, path, caller, response.status_code, message)
            if problem:
                wrong.append(f"{operation} ({level}) {method} {url} as {caller}: {problem}")
    assert not wrong, "\n".join(wrong)
    assert len(calls) * len(CALLERS) > 700


def test_options_is_a_405_on_every_api_path_before_authentication(client):
    answers = {path: client.options(concrete(path, "bot-1", "list-1")) for _, _, path in schema_operations(client)}
    wrong = {path: (r.status_code, r.json()) for path, r in answers.items()
             if (r.status_code, r.json()) != (405, {"code": 12, "message": "Method Not Allowed", "details": []})}
    assert not wrong
    assert len(answers) > 30
