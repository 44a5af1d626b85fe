"""Access levels and tokens (api.md §2): the level matrix, missing, invalid, revoked and expired
credentials, hashed storage, staff sessions with CSRF, one query per request."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from access.models import ApiToken
from access.tokens import issue_token

pytestmark = [pytest.mark.django_db, pytest.mark.urls("toyapp.api")]


def make_staff(username, *roles, superuser=False, active=True):
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(username, password="pw", is_staff=True, is_superuser=superuser, is_active=active)
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


LEVEL_NAMES = ["public", "kiosk", "store-staff", "store-admin", "depot-staff", "depot-admin", "bot-depot-staff",
               "bot-depot-admin"]
EXPECTED = {
    "kiosk": {"public", "kiosk"},
    "bot": {"public", "bot-depot-staff", "bot-depot-admin"},
    "store_staff": {"public", "kiosk", "store-staff"},
    "store_admin": {"public", "kiosk", "store-staff", "store-admin"},
    "depot_staff": {"public", "kiosk", "depot-staff", "bot-depot-staff"},
    "depot_admin": {"public", "kiosk", "depot-staff", "depot-admin", "bot-depot-staff", "bot-depot-admin"},
    "superuser": set(LEVEL_NAMES),
    "no_role": {"public"},
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_access_level_matrix(client, who):
    if who == "kiosk":
        _, raw = issue_token("kiosk", name="north")
    elif who == "bot":
        _, raw = issue_token("bot", bot_id="bot-1")
    else:
        roles = () if who in ("superuser", "no_role") else (who,)
        _, raw = issue_token("staff", user=make_staff(f"u-{who}", *roles, superuser=who == "superuser"))
    allowed = {name for name in LEVEL_NAMES if client.get(f"/api/toy/levels/{name}", **bearer(raw)).status_code == 200}
    assert allowed == EXPECTED[who]
    denied = client.get("/api/toy/levels/depot-admin", **bearer(raw))
    if "depot-admin" not in allowed:
        assert denied.status_code == 403 and denied.json()["message"] == "permission denied"


def test_missing_and_invalid_credentials(client):
    none = client.get("/api/toy/levels/kiosk")
    assert none.status_code == 401 and none.json()["message"] == "authentication required"
    assert none["WWW-Authenticate"] == "Bearer"
    for header in ("Bearer nope", "Token abc", "Bearer"):
        bad = client.get("/api/toy/levels/kiosk", HTTP_AUTHORIZATION=header)
        assert bad.status_code == 401 and bad.json() == {"code": 16, "message": "invalid token", "details": []}


def test_revoked_expired_and_inactive_user_tokens_fail(client):
    token, raw = issue_token("kiosk", name="k")
    assert client.get("/api/toy/levels/kiosk", **bearer(raw)).status_code == 200
    call_command("revoke_token", token.prefix)
    assert client.get("/api/toy/levels/kiosk", **bearer(raw)).json()["message"] == "invalid token"

    expired, raw_expired = issue_token("kiosk", name="k2", expires_days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/api/toy/levels/kiosk", **bearer(raw_expired)).status_code == 401

    user = make_staff("leaver", "depot_staff")
    _, raw_staff = issue_token("staff", user=user)
    assert client.get("/api/toy/levels/depot-staff", **bearer(raw_staff)).status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/api/toy/levels/depot-staff", **bearer(raw_staff)).status_code == 401


def test_tokens_are_stored_hashed_with_a_prefix():
    token, raw = issue_token("staff", user=make_staff("hasher", "store_staff"))
    assert raw.startswith("staff_") and len(raw) == len("staff_") + 40
    assert token.prefix == raw[:12] and raw not in token.token_hash and len(token.token_hash) == 64


def test_session_user_passes_and_unsafe_methods_need_csrf(client):
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    make_staff("desk", "depot_staff")
    client.login(username="desk", password="pw")
    assert client.get("/api/toy/levels/depot-staff").status_code == 200
    strict = Client(enforce_csrf_checks=True)
    strict.login(username="desk", password="pw")
    refused = strict.post("/api/toy/typed", '{"name": "w"}', content_type="application/json")
    assert refused.status_code == 403
    assert refused.json() == {"code": 7, "message": "permission denied", "details": []}
    secret = _get_new_csrf_string()
    strict.cookies["csrftoken"] = secret
    accepted = strict.post("/api/toy/typed", '{"name": "w"}', content_type="application/json",
                           HTTP_X_CSRFTOKEN=secret)
    assert accepted.status_code == 200
    _, raw = issue_token("kiosk", name="no-csrf")
    bearer_client = Client(enforce_csrf_checks=True)
    assert bearer_client.post("/api/toy/typed", '{"name": "w"}', content_type="application/json",
                              **bearer(raw)).status_code == 200


def test_a_staff_token_with_its_user_and_roles_is_checked_in_one_query(client, django_assert_num_queries):
    _, raw = issue_token("staff", user=make_staff("u-one-query", "depot_admin"))
    client.get("/api/toy/levels/kiosk", **bearer(raw))
    with django_assert_num_queries(1):
        assert client.get("/api/toy/levels/depot-admin", **bearer(raw)).status_code == 200
    with django_assert_num_queries(1):
        assert client.get("/api/toy/levels/store-staff", **bearer(raw)).status_code == 403


def _token_read_executions() -> list[int]:
    """How often this session ran the prepared token read (one entry per prepared statement of it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans + custom_plans FROM pg_prepared_statements"
                       " WHERE statement LIKE %s", ["%WHERE t.token_hash = $1"])
        return [count for (count,) in cursor.fetchall()]


def test_the_token_read_is_a_statement_the_server_planned_once(client):
    _, raw = issue_token("kiosk", name="prepared")
    assert client.get("/api/toy/levels/kiosk", **bearer(raw)).status_code == 200
    [before] = _token_read_executions()
    for _ in range(3):
        assert client.get("/api/toy/levels/kiosk", **bearer(raw)).status_code == 200
    assert _token_read_executions() == [before + 3]
