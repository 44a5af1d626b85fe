"""The reference clients' order-flow sequence over HTTP against real processes: the web tier, run_relay and
run_consumers on real PostgreSQL and NATS (issues 4 and 5)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from access.tokens import issue_token
from baskets.models import ProductCache
from eventstore.models import InboxMessage
from eventstore.tests import processes
from mallbots_site.tests.webtier import web_tier

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.subprocess]


class Api:
    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def ok(self, method: str, path: str, body: dict | None = None) -> dict:
        status, payload = self.call(method, path, body)
        assert status == 200, (method, path, status, payload)
        return payload

    def wait_for_order(self, order_id: str, final=("approved", "rejected"), timeout: float = 30) -> dict:
        def settled():
            status, payload = self.call("GET", f"/api/ordering/{order_id}")
            return payload["order"] if status == 200 and payload["order"]["status"] in final else None
        return processes.wait_until(settled, timeout, f"order {order_id} to settle", interval=0.1)


@pytest.fixture
def system(fresh_stream, tmp_path):
    """The web tier (one worker), relay and all consumers against the test database and NATS."""
    env = processes.subprocess_env()
    with web_tier(tmp_path / "web.log") as base_url, \
            processes.run_command("run_relay", env=env, log_path=tmp_path / "relay.log"), \
            processes.run_command("run_consumers", env=env, log_path=tmp_path / "consumers.log"):
        user = User.objects.create_superuser("reference-client", "ref@example.com", "pw")
        _, token = issue_token("staff", user=user)
        yield Api(base_url, token)


def given_catalog(api: Api) -> tuple[str, str]:
    store_id = api.ok("POST", "/api/stores", {"name": "Waldorf's Books", "location": "Level 1"})["id"]
    product_id = api.ok("POST", f"/api/stores/{store_id}/products",
                        {"name": "Novel", "description": "A good read", "sku": "N-1", "price": 9.99})["id"]
    return store_id, product_id


def checkout(api: Api, product_id: str, *, amount: float = 200.0, disable_customer: bool = False) -> tuple[str, str]:
    customer_id = api.ok("POST", "/api/customers", {"name": "Ann", "smsNumber": "555-0100"})["id"]
    if disable_customer:
        assert api.ok("PUT", f"/api/customers/{customer_id}/disable", {}) == {}
    basket_id = api.ok("POST", "/api/baskets", {"customerId": customer_id})["id"]
    deadline = time.monotonic() + 20
    while True:
        status, payload = api.call("PUT", f"/api/baskets/{basket_id}/addItem", {"productId": product_id, "quantity": 5})
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert (status, payload) == (200, {})
    basket = api.ok("GET", f"/api/baskets/{basket_id}")["basket"]
    assert basket["total"] == 49.95 and basket["items"][0]["quantity"] == 5
    payment_id = api.ok("POST", "/api/payments", {"customerId": customer_id, "amount": amount})["id"]
    assert api.ok("PUT", f"/api/baskets/{basket_id}/checkout", {"paymentId": payment_id}) == {}
    return basket_id, payment_id


def test_reference_order_flow_is_approved_and_two_rejections_through_real_processes(system):
    api = system
    _, product_id = given_catalog(api)
    order_id, payment_id = checkout(api, product_id)
    order = api.wait_for_order(order_id)
    assert order["status"] == "approved" and order["total"] == 49.95
    assert order["items"][0] == {"storeId": order["items"][0]["storeId"], "productId": product_id,
                                 "storeName": "Waldorf's Books", "productName": "Novel", "price": 9.99, "quantity": 5}
    lists = api.ok("GET", f"/api/depot/shopping?orderId={order_id}")["shoppingLists"]
    assert [(sl["id"], sl["status"]) for sl in lists] == [(order["shoppingId"], "available")]
    assert api.ok("GET", f"/api/payments/{payment_id}")["payment"]["status"] == "confirmed"

    disabled_order, _ = checkout(api, product_id, disable_customer=True)
    too_small, too_small_payment = checkout(api, product_id, amount=10.0)
    assert api.wait_for_order(disabled_order)["status"] == "rejected"
    assert api.wait_for_order(too_small)["status"] == "rejected"
    processes.wait_until(lambda: api.ok("GET", f"/api/payments/{too_small_payment}")["payment"]["status"] == "released",
                         15, "payment released")
    canceled = api.ok("GET", f"/api/depot/shopping?orderId={too_small}")["shoppingLists"]
    assert [sl["status"] for sl in canceled] == ["canceled"]


def test_catalog_changes_reach_the_baskets_cache_through_nats(system):
    api = system
    _, product_id = given_catalog(api)
    cached = processes.wait_until(lambda: ProductCache.objects.filter(id=product_id).first(), 15, "product cached")
    assert (cached.name, cached.price) == ("Novel", Decimal("9.99"))
    assert api.ok("PUT", f"/api/stores/products/{product_id}/rebrand", {"name": "Epic", "description": "Longer"}) == {}
    assert api.ok("PUT", f"/api/stores/products/{product_id}/increasePrice", {"price": 12.5}) == {}
    processes.wait_until(lambda: ProductCache.objects.filter(id=product_id, name="Epic", price=Decimal("12.50")).exists(),
                         15, "rebrand and price in the cache")
    inbox_rows = InboxMessage.objects.filter(consumer="baskets-products").count()
    version = ProductCache.objects.get(id=product_id).version

    last = processes.stream_messages(settings.NATS_URL, settings.NATS_STREAM)[-1]
    processes.run_async(_republish_with_new_broker_id, last.subject, last.data)
    time.sleep(1.0)
    assert InboxMessage.objects.filter(consumer="baskets-products").count() == inbox_rows
    assert ProductCache.objects.get(id=product_id).version == version

    assert api.ok("DELETE", f"/api/stores/products/{product_id}") == {}
    processes.wait_until(lambda: ProductCache.objects.filter(id=product_id, removed=True).exists(), 15, "tombstone")
    basket_id = api.ok("POST", "/api/baskets", {"customerId": "anyone"})["id"]
    status, payload = api.call("PUT", f"/api/baskets/{basket_id}/addItem", {"productId": product_id, "quantity": 1})
    assert (status, payload["message"]) == (404, "product not found")


async def _republish_with_new_broker_id(subject: str, data: bytes) -> None:
    import uuid

    import nats

    client = await nats.connect(settings.NATS_URL)
    try:
        await client.jetstream().publish(subject, data, headers={"Nats-Msg-Id": str(uuid.uuid4())})
    finally:
        await client.close()
