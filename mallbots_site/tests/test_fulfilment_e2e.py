"""An order's whole life through real processes (issue 12): the web tier as ``run_all`` starts it, the
relay, every consumer, qcluster and the bot simulator, on real PostgreSQL and NATS.

One simulated bot shops every list, so the lists are shopped in the order the test places them. Its
"is this item unavailable?" draws are scripted (``depot.tests.scripted_bots``; the simulator's own code
runs unchanged): checkout → approved → in-progress → ready → paid → completed; an unavailable item gives
a smaller invoice; nothing picked cancels the order (``items-unavailable``); a kiosk cancelling an
in-progress order releases the bot and the payment.
"""

from __future__ import annotations

import sys

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from access.tokens import issue_token
from eventstore.tests import processes
from mallbots_site.tests.test_order_flow_e2e import Api
from mallbots_site.web import http_server_argv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.subprocess]

DRAWS = "0.99,0.99,0.0,0.99,0.0"  # order A: both picked; B: first unavailable, second picked; C: unavailable


@pytest.fixture
def mall(fresh_stream, tmp_path):
    port = processes.free_port(18500)
    base_url = f"http://127.0.0.1:{port}"
    env = processes.subprocess_env(BOT_SIM_BASE_URL=base_url, BOT_SIM_POLL_SECONDS="0.2",
                                   BOT_SIM_TRAVEL_SECONDS="1.0", BOT_SIM_PICK_SECONDS="0.05",
                                   BOT_SIM_UNAVAILABLE_RATE="0.5")
    call_command("setup_schedules", verbosity=0)
    web = processes.ManagedProcess(http_server_argv(None, 2, bind=f"127.0.0.1:{port}"), env, tmp_path / "web.log")
    bots = None
    try:
        with processes.run_command("run_relay", env=env, log_path=tmp_path / "relay.log"), \
                processes.run_command("run_consumers", env=env, log_path=tmp_path / "consumers.log"), \
                processes.run_command("qcluster", env=env, log_path=tmp_path / "qcluster.log"):
            processes.wait_until(lambda: processes.port_in_use(port), 30, "web server to listen")
            bots = processes.ManagedProcess(
                [sys.executable, "-m", "depot.tests.scripted_bots", DRAWS, "run_bots", "--count", "1"], env,
                tmp_path / "bots.log")
            user = User.objects.create_superuser("depot-desk", "desk@example.com", "pw")
            staff = Api(base_url, issue_token("staff", user=user)[1])
            kiosk = Api(base_url, issue_token("kiosk", name="north")[1])
            bots.wait_for_log("sim-bot-1: online", timeout=30)
            yield staff, kiosk, bots
    finally:
        if bots is not None:
            bots.cleanup()
        web.cleanup()


def order_of(api: Api, order_id: str, *statuses: str, timeout: float = 30) -> dict:
    def reached():
        status, body = api.call("GET", f"/api/ordering/{order_id}")
        return body["order"] if status == 200 and body["order"]["status"] in statuses else None
    return processes.wait_until(reached, timeout, f"order {order_id} {'/'.join(statuses)}", interval=0.1)


def invoice_of(api: Api, order_id: str) -> dict:
    def created():
        status, body = api.call("GET", f"/api/payments/invoices/{order_id}")
        return body["invoice"] if status == 200 else None
    return processes.wait_until(created, 20, f"invoice {order_id}", interval=0.1)


def checkout(kiosk: Api, lines: list[tuple[str, int]]) -> tuple[str, str]:
    customer_id = kiosk.ok("POST", "/api/customers", {"name": "Ann", "smsNumber": "555-0100"})["id"]
    basket_id = kiosk.ok("POST", "/api/baskets", {"customerId": customer_id})["id"]
    for product_id, quantity in lines:
        processes.wait_until(lambda: kiosk.call("PUT", f"/api/baskets/{basket_id}/addItem",
                                                {"productId": product_id, "quantity": quantity})[0] == 200,
                             20, "item added (catalog cached)", interval=0.1)
    payment_id = kiosk.ok("POST", "/api/payments", {"customerId": customer_id, "amount": 200})["id"]
    kiosk.ok("PUT", f"/api/baskets/{basket_id}/checkout", {"paymentId": payment_id})
    return basket_id, payment_id


def bot_is_idle(staff: Api) -> bool:
    [bot] = staff.ok("GET", "/api/depot/bots")["bots"]
    return bot["status"] == "idle"


def test_orders_live_their_whole_life_with_the_bot_simulator(mall):
    staff, kiosk, bots = mall
    store = staff.ok("POST", "/api/stores", {"name": "Books", "location": "Level 1"})["id"]
    novel = staff.ok("POST", f"/api/stores/{store}/products", {"name": "Novel", "sku": "N", "price": 9.99})["id"]
    atlas = staff.ok("POST", f"/api/stores/{store}/products", {"name": "Atlas", "sku": "A", "price": 5})["id"]

    complete, complete_payment = checkout(kiosk, [(novel, 2), (atlas, 1)])
    assert order_of(kiosk, complete, "approved", "in-progress", "ready")["total"] == 24.98
    ready = order_of(kiosk, complete, "ready")
    assert (ready["total"], [i["quantity"] for i in ready["items"]]) == (24.98, [2, 1])
    invoice = invoice_of(staff, complete)
    assert (invoice["amount"], invoice["status"], invoice["paymentId"]) == (24.98, "pending", complete_payment)
    assert staff.ok("PUT", f"/api/payments/invoices/{complete}/pay", {}) == {}
    completed = order_of(kiosk, complete, "completed")
    assert completed["invoiceId"] == complete
    assert kiosk.ok("GET", f"/api/payments/{complete_payment}")["payment"]["status"] == "captured"

    smaller, smaller_payment = checkout(kiosk, [(novel, 2), (atlas, 1)])
    ready = order_of(kiosk, smaller, "ready")
    assert (ready["total"], [(i["productId"], i["quantity"]) for i in ready["items"]]) == (5.0, [(atlas, 1)])
    assert invoice_of(staff, smaller)["amount"] == 5.0
    staff.ok("PUT", f"/api/payments/invoices/{smaller}/pay", {})
    order_of(kiosk, smaller, "completed")
    [shopped] = staff.ok("GET", f"/api/depot/shopping?orderId={smaller}")["shoppingLists"]
    assert [(i["productId"], i["pickedQuantity"], i["status"]) for s in shopped["stops"] for i in s["items"]] == [
        (novel, 0, "unavailable"), (atlas, 1, "picked")]

    nothing, nothing_payment = checkout(kiosk, [(atlas, 1)])
    cancelled = order_of(kiosk, nothing, "cancelled")
    assert cancelled["status"] == "cancelled"
    processes.wait_until(lambda: kiosk.ok("GET", f"/api/payments/{nothing_payment}")["payment"]["status"] == "released",
                         20, "payment released")
    assert staff.call("GET", f"/api/payments/invoices/{nothing}")[0] == 404

    walked_away, walked_away_payment = checkout(kiosk, [(novel, 1)])
    order_of(kiosk, walked_away, "in-progress")
    assert kiosk.ok("DELETE", f"/api/ordering/{walked_away}") == {}
    assert order_of(kiosk, walked_away, "cancelled")["status"] == "cancelled"
    processes.wait_until(lambda: kiosk.ok("GET", f"/api/payments/{walked_away_payment}")["payment"]["status"]
                         == "released", 20, "payment released after the kiosk cancelled")
    abandoned = processes.wait_until(
        lambda: next((sl for sl in staff.ok("GET", f"/api/depot/shopping?orderId={walked_away}")["shoppingLists"]
                      if sl["status"] == "canceled"), None), 20, "the shopping list cancelled")
    processes.wait_until(lambda: bot_is_idle(staff), 20, "the bot released")
    bots.wait_for_log(f"abandoned list {abandoned['id']}", timeout=20)

    assert bots.terminate() == 0
    [bot] = staff.ok("GET", "/api/depot/bots")["bots"]
    assert (bot["name"], bot["status"]) == ("sim-bot-1", "offline")
    assert "bots stopped after 3 completed list(s)" in bots.log() and "Traceback" not in bots.log()
