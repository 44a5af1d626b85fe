"""API-token admin (architecture.md §13): superusers only; a new token is shown once; revoking."""

import hashlib
import re

import pytest
from django.contrib.auth.models import Group, User

from access.models import ApiToken

pytestmark = pytest.mark.django_db

TOKENS = "/admin/access/apitoken/"


@pytest.fixture
def superuser(client):
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return user


@pytest.fixture
def staff(client):
    user = User.objects.create_user("dora", password="pw", is_staff=True)
    for role in ("depot_admin", "store_admin"):
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    client.force_login(user)
    return user


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def shown_token(response) -> str:
    return re.search(r'<code id="raw-token"[^>]*>([^<]+)</code>', response.content.decode()).group(1)


def test_superuser_sees_the_tokens(client, superuser):
    assert TOKENS in client.get("/admin/").content.decode()
    assert client.get(TOKENS).status_code == 200


def test_staff_without_superuser_cannot_see_or_issue_tokens(client, staff):
    assert TOKENS not in client.get("/admin/").content.decode()
    assert client.get(TOKENS).status_code == 403
    assert client.get(f"{TOKENS}add/").status_code == 403


def test_superuser_issues_a_token_shown_once_and_revokes_it(client, superuser):
    response = client.post(f"{TOKENS}add/", {"kind": "kiosk", "name": "north-entrance", "bot_id": "",
                                             "expires_days": "30"}, follow=True)
    assert response.status_code == 200
    assert "shown only this once" in response.content.decode()
    raw = shown_token(response)
    token = ApiToken.objects.get()
    assert (token.kind, token.name, token.prefix) == ("kiosk", "north-entrance", raw[:12])
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.expires_at is not None
    detail = client.get(f"{TOKENS}{token.pk}/change/").content.decode()
    assert token.token_hash not in detail and raw not in detail and 'name="token_hash"' not in detail
    assert raw not in client.get(TOKENS).content.decode()

    response = client.post(TOKENS, {"action": "revoke", "_selected_action": [str(token.pk)]}, follow=True)
    assert "Tokens revoked: 1" in page_messages(response)
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_form_requires_the_owner_of_each_kind(client, superuser):
    response = client.post(f"{TOKENS}add/", {"kind": "bot", "name": "", "bot_id": ""})
    assert response.status_code == 200 and "bot tokens need a bot id" in response.content.decode()
    response = client.post(f"{TOKENS}add/", {"kind": "staff", "name": ""})
    assert "staff tokens need a user" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_issue_13_finding_7_the_raw_token_never_travels_in_a_cookie_or_a_cache(client, superuser):
    """Before, the raw token went out in Django's cookie message storage (signed, not encrypted)."""
    response = client.post(f"{TOKENS}add/", {"kind": "bot", "name": "", "bot_id": "bot-7"})
    raw = shown_token(response)
    assert raw.startswith("bot_") and ApiToken.objects.get().token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert all(raw not in morsel.value for morsel in response.cookies.values())
    assert "no-store" in response["Cache-Control"]
    following = client.get(TOKENS)
    assert raw not in following.content.decode()
    assert all(raw not in morsel.value for morsel in client.cookies.values())
    assert not any(raw in str(message) for message in following.context["messages"])
