"""Test helpers for API tests: users in role groups, tokens for each kind of caller, a JSON API caller.

The fixtures ``as_who`` and ``staff`` are exported by the root ``conftest.py``.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from access.tokens import issue_token

WHO = ("kiosk", "bot", "store_staff", "store_admin", "depot_staff", "depot_admin", "superuser")


def make_user(username: str, *roles: str, superuser: bool = False) -> User:
    if not Group.objects.filter(name="store_staff").exists():
        call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(username, is_staff=True, is_superuser=superuser)
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


def token_for(who: str) -> str:
    if who == "kiosk":
        return issue_token("kiosk", name="north-entrance")[1]
    if who == "bot":
        return issue_token("bot", bot_id="bot-1")[1]
    if who == "superuser":
        return issue_token("staff", user=make_user("root", superuser=True))[1]
    return issue_token("staff", user=make_user(f"user-{who}", who))[1]


class Api:
    """Calls the API as one principal and returns ``(status, json)``."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def __call__(self, method: str, path: str, body=None):
        data = "" if body is None else (body if isinstance(body, str) else json.dumps(body))
        response = self.client.generic(method, path, data, content_type="application/json", **self.headers)
        assert response["Content-Type"].startswith("application/json")
        return response.status_code, response.json()


@pytest.fixture
def as_who(client, db):
    return lambda who: Api(client, token_for(who) if who else None)


@pytest.fixture
def staff(as_who):
    """A superuser token: passes every access level."""
    return as_who("superuser")
