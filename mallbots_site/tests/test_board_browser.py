"""The order board in a real browser (quality.md §4): headless Chromium signs in as depot staff and watches
orders that kiosks check out through the API arrive and change status live. The web tier as ``run_all`` starts
it, the relay and every consumer run as processes on the test database and NATS: checkout → BasketCheckedOut
→ ordering → OrderCreated on NATS → the web worker's subscription → the page; the saga approves it (or
rejects it), a kiosk cancels it. When the page's web worker dies, the page reconnects to the one gunicorn
starts instead, gets a snapshot, and follows the orders again.

``BOARD_SCREENSHOT=docs/board.png`` also saves the final screenshot there (the README's picture).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal

import pytest

from access.testing import make_user
from access.tokens import issue_token
from eventstore.tests import processes
from mallbots_site.tests.browser import chromium, chromium_path
from mallbots_site.tests.orders import given_ready_order
from mallbots_site.tests.test_order_flow_e2e import Api
from mallbots_site.tests.webtier import web_tier

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.subprocess]

TIMEOUT_MS = 30_000  # a bound for a loaded box


def checkout(kiosk: Api, product_id: str, *, customer: str, quantity: int, amount: float) -> str:
    """A customer checks out ``quantity`` of the product with a payment of ``amount``; returns the order id."""
    customer_id = kiosk.ok("POST", "/api/customers", {"name": customer, "smsNumber": "555-0100"})["id"]
    basket_id = kiosk.ok("POST", "/api/baskets", {"customerId": customer_id})["id"]
    processes.wait_until(lambda: kiosk.call("PUT", f"/api/baskets/{basket_id}/addItem",
                                            {"productId": product_id, "quantity": quantity})[0] == 200,
                         20, "item added (catalog cached)", interval=0.1)
    payment_id = kiosk.ok("POST", "/api/payments", {"customerId": customer_id, "amount": amount})["id"]
    kiosk.ok("PUT", f"/api/baskets/{basket_id}/checkout", {"paymentId": payment_id})
    return basket_id


def updates_of(frames: list, order_id: str) -> list[str]:
    """The events of the ``update`` messages the page received for the order, in order."""
    messages = [json.loads(frame) for frame in frames]
    return [m["event"] for m in messages if m["type"] == "update" and m["order"]["orderId"] == order_id]


def test_depot_staff_watch_orders_arrive_and_change_status_live(fresh_stream, tmp_path):
    chromium_path()
    waiting = given_ready_order(customer="Ida Waits")
    desk = make_user("desk", "depot_staff")
    desk.set_password("desk-password")
    desk.save()
    staff_token = issue_token("staff", user=make_user("root", superuser=True))[1]
    kiosk_token = issue_token("kiosk", name="north-entrance")[1]
    env = processes.subprocess_env()

    with web_tier(tmp_path / "web.log") as base, \
            processes.run_command("run_relay", env=env, log_path=tmp_path / "relay.log"), \
            processes.run_command("run_consumers", env=env, log_path=tmp_path / "consumers.log"), \
            chromium() as browser:
        staff, kiosk = Api(base, staff_token), Api(base, kiosk_token)
        store = staff.ok("POST", "/api/stores", {"name": "Toy Palace", "location": "Level 2"})["id"]
        robot = staff.ok("POST", f"/api/stores/{store}/products", {"name": "Robot", "sku": "R", "price": 45})["id"]

        page = browser.new_page(viewport={"width": 1400, "height": 480})
        frames: list = []
        page.on("websocket", lambda socket: socket.on("framereceived", lambda frame: frames.append(frame)))
        page.goto(f"{base}/board/")
        page.wait_for_url(f"{base}/admin/login/?next=/board/")
        page.fill("#id_username", "desk")
        page.fill("#id_password", "desk-password")
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/board/")
        page.wait_for_selector("body[data-connection=live]", timeout=TIMEOUT_MS)
        assert page.inner_text("#connection") == "Live"
        ready = page.locator(f'[data-column="ready"] [data-order-id="{waiting.order_id}"]')
        assert "Ida Waits" in ready.inner_text()
        assert page.inner_text('[data-column="approved"] .count') == "0"

        ann = checkout(kiosk, robot, customer="Ann Lee", quantity=2, amount=200)
        card = page.locator(f'[data-column="approved"] [data-order-id="{ann}"]')
        card.wait_for(timeout=TIMEOUT_MS)
        assert updates_of(frames, ann)[:2] == ["ordersapi.OrderCreated", "ordersapi.OrderApproved"]
        page.wait_for_function(
            f"document.querySelector('[data-order-id=\"{ann}\"] .customer').textContent === 'Ann Lee'",
            timeout=TIMEOUT_MS)
        assert "90.00" in card.inner_text() and "2 items" in card.inner_text()

        bob = checkout(kiosk, robot, customer="Bob Stone", quantity=1, amount=100)
        cy = checkout(kiosk, robot, customer="Cy Short", quantity=3, amount=10)
        page.locator(f'[data-column="approved"] [data-order-id="{bob}"]').wait_for(timeout=TIMEOUT_MS)
        rejected = page.locator(f'[data-column="finished"] [data-order-id="{cy}"][data-status="rejected"]')
        rejected.wait_for(timeout=TIMEOUT_MS)

        assert kiosk.ok("DELETE", f"/api/ordering/{ann}") == {}
        cancelled = page.locator(f'[data-column="finished"] [data-order-id="{ann}"][data-status="cancelled"]')
        cancelled.wait_for(timeout=TIMEOUT_MS)
        assert cancelled.locator(".badge").text_content() == "cancelled"
        assert "Ann Lee" in cancelled.inner_text()
        assert page.locator(f'[data-column="approved"] [data-order-id="{ann}"]').count() == 0
        assert updates_of(frames, ann)[-1] == "ordersapi.OrderCanceled"
        assert [page.inner_text(f'[data-column="{c}"] .count') for c in ("pending", "approved", "ready", "finished")] \
            == ["0", "1", "1", "2"]
        page.wait_for_timeout(3000)  # let the "just changed" highlight fade before the picture
        page.screenshot(path=tmp_path / "board.png")

        [worker] = re.findall(r"Booting worker with pid: (\d+)", (tmp_path / "web.log").read_text())
        os.kill(int(worker), signal.SIGKILL)
        page.wait_for_selector('body[data-opened="2"][data-connection=live]', timeout=TIMEOUT_MS)
        assert [json.loads(frame)["type"] for frame in frames].count("snapshot") == 2
        assert kiosk.ok("DELETE", f"/api/ordering/{bob}") == {}
        page.locator(f'[data-column="finished"] [data-order-id="{bob}"][data-status="cancelled"]').wait_for(
            timeout=TIMEOUT_MS)

    if os.environ.get("BOARD_SCREENSHOT"):
        shutil.copy(tmp_path / "board.png", os.environ["BOARD_SCREENSHOT"])
