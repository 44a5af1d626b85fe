"""The web tier as ``run_all`` starts it carries HTTP and WebSocket on one port (ADR 23, architecture.md §14)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from access.testing import make_user
from access.tokens import issue_token
from mallbots_site.tests.webtier import web_tier
from stores import services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.subprocess]


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def board_socket(base: str, cookie: str = ""):
    return connect(base.replace("http://", "ws://") + "/ws/board/", origin=base, open_timeout=10,
                   additional_headers={"Cookie": cookie} if cookie else None)


def close_code(base: str, cookie: str = "") -> int:
    with board_socket(base, cookie) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    return closed.value.rcvd.code


def test_http_api_and_the_board_websocket_share_the_port(tmp_path):
    store_id = services.create_store(name="Corner Shop", location="Level 2")
    _, kiosk = issue_token("kiosk", name="north-entrance")
    depot = session_cookie(make_user("desk", "depot_staff"))
    shop = session_cookie(make_user("shop", "store_admin"))

    with web_tier(tmp_path / "web.log", workers=2) as base:
        request = urllib.request.Request(f"{base}/api/stores/{store_id}", headers={"Authorization": f"Bearer {kiosk}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert json.loads(response.read())["store"]["name"] == "Corner Shop"

        assert close_code(base) == 4401
        assert close_code(base, shop) == 4403
        with board_socket(base, depot) as socket:
            assert json.loads(socket.recv(timeout=10)) == {"type": "snapshot", "orders": []}
            socket.send(json.dumps({"type": "resync"}))
            assert json.loads(socket.recv(timeout=10))["type"] == "snapshot"


def test_a_websocket_from_another_site_is_refused(tmp_path):
    depot = session_cookie(make_user("desk", "depot_staff"))
    with web_tier(tmp_path / "web.log") as base:
        with pytest.raises(InvalidStatus) as refused:
            connect(base.replace("http://", "ws://") + "/ws/board/", origin="http://evil.example", open_timeout=10,
                    additional_headers={"Cookie": depot})
    assert refused.value.response.status_code == 403


def status_of(base: str, path: str, token: str) -> int:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_a_worker_keeps_a_token_it_read_until_a_revocation_notifies_it(tmp_path):
    """ADR 33: a token revoked behind the triggers' back (replication role) still passes, so the worker did not
    read it again; one revoked as the operator does fails within moments, long before the cache's 300 s."""
    _, unseen = issue_token("kiosk", name="unseen")
    kept, revoked = issue_token("kiosk", name="revoked")
    path = "/api/stores/participating"
    with web_tier(tmp_path / "web.log", workers=1, ACCESS_TOKEN_CACHE_SECONDS="300") as base:
        assert status_of(base, path, unseen) == status_of(base, path, revoked) == 200
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            try:
                cursor.execute("UPDATE mallbots_site_apitoken SET revoked_at = now() WHERE name = 'unseen'")
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")
        assert status_of(base, path, unseen) == 200

        call_command("revoke_token", kept.prefix)
        deadline = time.monotonic() + 5
        while status_of(base, path, revoked) == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status_of(base, path, revoked) == 401
