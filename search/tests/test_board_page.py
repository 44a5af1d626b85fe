"""The board page ``/board/`` (api.md §5): depot roles and superusers get it, anonymous users the admin's login,
others 403; its script and stylesheet are served locally. And the ``BoardOrder`` rules of architecture.md §10."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from access.testing import make_user
from search import domain

D = Decimal


def client_of(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_admin_login_and_back():
    response = client_of().get("/board/")
    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/board/")


@pytest.mark.django_db
@pytest.mark.parametrize("roles, superuser", [(("depot_staff",), False), (("depot_admin",), False), ((), True)])
def test_depot_roles_and_superusers_get_the_board(roles, superuser):
    response = client_of(make_user("desk", *roles, superuser=superuser)).get("/board/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<script src="/static/board.js" defer></script>' in page
    assert 'data-recent-minutes="60"' in page
    assert [c in page for c in ('data-column="pending"', 'data-column="approved"', 'data-column="in-progress"',
                                'data-column="ready"', 'data-column="finished"')] == [True] * 5
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
@pytest.mark.parametrize("roles", [("store_staff",), ("store_admin",), ()])
def test_other_staff_get_403(roles):
    response = client_of(make_user("shop", *roles)).get("/board/")
    assert response.status_code == 403
    assert "The order board is for depot staff" in response.content.decode()


@pytest.mark.django_db
def test_the_board_shows_the_configured_recent_window(settings):
    settings.BOARD_RECENT_MINUTES = 15
    page = client_of(make_user("desk", "depot_staff")).get("/board/").content.decode()
    assert 'data-recent-minutes="15"' in page and "Finished, last 15 min" in page


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["board.js", "board.css"])
def test_the_script_and_stylesheet_are_served_locally(name):
    response = client_of().get(f"/static/{name}")
    assert response.status_code == 200
    assert b"cdn" not in b"".join(response.streaming_content).lower()


def test_an_update_takes_the_status_from_the_event_name_and_the_rest_from_the_row():
    row = domain.BoardRow(customer_name="Ann", total=D("30.00"), item_count=4)
    assert domain.board_update(name="ordersapi.OrderStarted", payload={"id": "o-1", "bot_id": "b"},
                               updated_at="2026-11-22T10:00:00.000000Z", row=row) == {
        "type": "update", "event": "ordersapi.OrderStarted", "order": {
            "orderId": "o-1", "customerName": "Ann", "status": "in-progress", "total": D("30.00"), "itemCount": 4,
            "updatedAt": "2026-11-22T10:00:00.000000Z"}}


def test_an_update_takes_the_total_from_the_payload_when_it_has_one():
    row = domain.BoardRow(customer_name="Ann", total=D("30.00"), item_count=4)
    update = domain.board_update(name="ordersapi.OrderReadied", payload={"id": "o-1", "total": D("24.98")},
                                 updated_at="t", row=row)
    assert (update["order"]["status"], update["order"]["total"]) == ("ready", D("24.98"))


@pytest.mark.parametrize("name, status", sorted(domain.STATUS_AFTER.items()))
def test_without_a_row_an_update_has_an_empty_name_and_zero_counts(name, status):
    assert domain.board_update(name=name, payload={"id": "o-9"}, updated_at="t", row=None)["order"] == {
        "orderId": "o-9", "customerName": "", "status": status, "total": D("0.00"), "itemCount": 0, "updatedAt": "t"}


def test_the_item_count_adds_up_the_quantities():
    assert domain.item_count([{"quantity": 2}, {"quantity": 3}]) == 5
    assert domain.item_count([]) == 0
