"""API-token admin (architecture.md §13): superusers only; a new token is shown once; revoking."""

import hashlib

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
    [shown] = [m for m in page_messages(response) if "shown only this once" in m]
    raw = shown.rsplit(" ", 1)[1]
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
