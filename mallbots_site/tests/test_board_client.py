"""The board page's client (``static/board.js``) in headless Chromium against a scripted socket: Playwright
serves the rendered page and its static files and plays the server's side of ``/ws/board/`` (architecture.md
§10), so each rule of the client is checked on its own: columns and counts, stale and early updates,
snapshots, pruning, reconnecting, the close codes. The real server is in ``test_board_browser``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import render_to_string

from mallbots_site.tests.browser import chromium, chromium_path

BASE = "http://board.test"
TIMEOUT_MS = 20_000
STATIC = Path(settings.BASE_DIR) / "static"


def iso(minutes_ago: float = 0) -> str:
    moment = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def order(order_id: str, status: str, *, name: str = "Ann", total: float = 10.0, items: int = 1,
          updated: str | None = None) -> dict:
    return {"orderId": order_id, "customerName": name, "status": status, "total": total, "itemCount": items,
            "updatedAt": updated or iso()}


class Board:
    """A page on the board with the server's side of its sockets in ``sockets`` (newest last)."""

    def __init__(self, page) -> None:
        self.page = page
        self.sockets: list = []
        self.received: list[dict] = []

    def accept(self, socket) -> None:
        self.sockets.append(socket)
        socket.on_message(lambda message: self.received.append(json.loads(message)))

    def send(self, message: dict) -> None:
        self.sockets[-1].send(json.dumps(message))

    def wait(self, expression: str) -> None:
        self.page.wait_for_function(expression, timeout=TIMEOUT_MS)

    def wait_card(self, order_id: str, column: str) -> None:
        """Until the order's card is in ``column`` (the page renders on the next animation frame)."""
        self.page.locator(f'[data-column="{column}"] [data-order-id="{order_id}"]').wait_for(timeout=TIMEOUT_MS)

    def column_of(self, order_id: str) -> str:
        return self.page.eval_on_selector(f'[data-order-id="{order_id}"]', "card => card.closest('.column').dataset.column")

    def counts(self) -> dict[str, str]:
        return {column: self.page.inner_text(f'[data-column="{column}"] .count')
                for column in ("pending", "approved", "in-progress", "ready", "finished")}

    def card_text(self, order_id: str) -> str:
        return self.page.inner_text(f'[data-order-id="{order_id}"]')


@pytest.fixture
def board():
    chromium_path()
    page_html = render_to_string("board.html", {"recent_minutes": 60, "user": SimpleNamespace(get_username="desk")})
    files = {"/board/": ("text/html", page_html), "/static/board.js": ("text/javascript", (STATIC / "board.js").read_text()),
             "/static/board.css": ("text/css", (STATIC / "board.css").read_text())}

    def serve(route):
        path = route.request.url.removeprefix(BASE)
        if path in files:
            content_type, body = files[path]
            route.fulfill(status=200, content_type=content_type, body=body)
        else:
            route.fulfill(status=404, body="")

    with chromium() as browser:
        page = browser.new_page()
        board = Board(page)
        page.route(f"{BASE}/**", serve)
        page.route_web_socket(f"{BASE.replace('http', 'ws')}/ws/board/", board.accept)
        page.goto(f"{BASE}/board/")
        page.wait_for_function("document.body.dataset.opened === '1'", timeout=TIMEOUT_MS)
        yield board


def test_a_snapshot_fills_the_columns_with_counts(board):
    assert board.page.inner_text("#connection") == "Connecting…"
    board.send({"type": "snapshot", "orders": [
        order("o-1", "pending", name="Ann", total=24.98, items=3), order("o-2", "approved"),
        order("o-3", "in-progress"), order("o-4", "ready"), order("o-5", "ready"),
        order("o-6", "cancelled", updated=iso(10)), order("o-7", "completed", updated=iso(61))]})
    board.wait("document.body.dataset.connection === 'live'")
    assert board.page.inner_text("#connection") == "Live"
    board.wait_card("o-6", "finished")
    assert board.counts() == {"pending": "1", "approved": "1", "in-progress": "1", "ready": "2", "finished": "1"}
    assert [board.column_of(o) for o in ("o-1", "o-2", "o-3", "o-4", "o-6")] == [
        "pending", "approved", "in-progress", "ready", "finished"]
    assert board.card_text("o-1").split("\n")[2:] == ["Ann", "24.98", "3 items"]
    assert board.page.locator('[data-order-id="o-6"] .badge').text_content() == "cancelled"
    assert board.page.locator('[data-order-id="o-7"]').count() == 0


def test_updates_move_orders_and_stale_ones_are_ignored(board):
    board.send({"type": "snapshot", "orders": [order("o-1", "approved", name="Ann", updated=iso(1))]})
    board.send({"type": "update", "event": "ordersapi.OrderStarted", "order": order("o-1", "in-progress", name="Ann")})
    board.wait_card("o-1", "in-progress")
    board.send({"type": "update", "event": "ordersapi.OrderApproved",
                "order": order("o-1", "approved", name="Ann", updated=iso(2))})
    board.send({"type": "update", "event": "ordersapi.OrderCreated", "order": order("o-2", "pending", name="Bob")})
    board.wait("document.querySelector('[data-order-id=\"o-2\"]') !== null")
    assert board.column_of("o-1") == "in-progress"
    assert board.counts()["approved"] == "0"


def test_an_update_sent_before_the_search_row_keeps_what_the_board_knows(board):
    board.send({"type": "snapshot", "orders": []})
    board.send({"type": "update", "event": "ordersapi.OrderCreated",
                "order": order("o-1", "pending", name="", total=0, items=0, updated=iso(0.2))})
    board.wait("document.querySelector('[data-order-id=\"o-1\"]') !== null")
    assert board.card_text("o-1").split("\n")[2:] == ["—", "0.00", "0 items"]
    board.send({"type": "update", "event": "ordersapi.OrderApproved",
                "order": order("o-1", "approved", name="Ann", total=45, items=2, updated=iso(0.1))})
    board.send({"type": "update", "event": "ordersapi.OrderRejected",
                "order": order("o-1", "rejected", name="", total=0, items=0)})
    board.wait_card("o-1", "finished")
    assert board.card_text("o-1").split("\n")[2:] == ["Ann", "45.00", "2 items", "REJECTED"]


def test_a_snapshot_keeps_newer_states_and_orders_the_read_model_has_not_caught_up_with(board):
    board.send({"type": "snapshot", "orders": [order("o-1", "approved", updated=iso(1)), order("o-2", "ready")]})
    board.send({"type": "update", "event": "ordersapi.OrderStarted", "order": order("o-1", "in-progress")})
    board.send({"type": "update", "event": "ordersapi.OrderCreated", "order": order("o-3", "pending")})
    board.wait("document.querySelector('[data-order-id=\"o-3\"]') !== null")
    board.send({"type": "snapshot", "orders": [order("o-1", "approved", updated=iso(1))]})
    board.wait("document.querySelector('[data-order-id=\"o-2\"]') === null")
    assert (board.column_of("o-1"), board.column_of("o-3")) == ("in-progress", "pending")


def test_a_lost_connection_shows_reconnects_and_resyncs(board):
    board.send({"type": "snapshot", "orders": [order("o-1", "approved")]})
    board.wait("document.body.dataset.connection === 'live'")
    board.sockets[-1].close(code=1012, reason="restart")
    board.wait("document.body.dataset.connection === 'reconnecting'")
    assert board.page.inner_text("#connection").startswith("Connection lost: retrying in ")
    board.wait("document.body.dataset.opened === '2'")
    board.send({"type": "snapshot", "orders": [order("o-1", "ready")]})
    board.wait("document.body.dataset.connection === 'live'")
    board.wait_card("o-1", "ready")


def test_a_board_without_a_depot_role_stops(board):
    board.sockets[-1].close(code=4403, reason="")
    board.wait("document.body.dataset.connection === 'forbidden'")
    assert board.page.inner_text("#connection") == "This account has no depot role."
