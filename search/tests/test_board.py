"""The order board's socket (architecture.md §10) through the project's ASGI application with Channels'
``WebsocketCommunicator``: who is admitted, the snapshot from the search read model, updates fanned out from a
core NATS subscription (a nats-server of the test's own: nothing lands in the suite's stream), resync, and
the snapshot every socket gets when NATS comes back."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from decimal import Decimal

import nats
import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from access.testing import make_user
from eventstore import codec
from eventstore.envelope import Envelope
from eventstore.schema import to_dict
from mallbots_site.asgi import application
from ordering import contracts
from search import board
from search.models import Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.nats]

D = Decimal
RECEIVE_TIMEOUT = 30  # a bound for a loaded box, not an expectation


@pytest.fixture(autouse=True)
def fresh_layer():
    layer = get_channel_layer()
    asyncio.run(layer.flush())
    yield
    asyncio.run(layer.flush())


@pytest.fixture
def board_nats(dedicated_nats, settings):
    """The board feed talks to a nats-server of this test."""
    settings.NATS_URL = dedicated_nats.url
    return dedicated_nats


def cookie_of(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def depot_cookie() -> bytes:
    return cookie_of(make_user(f"desk-{uuid.uuid4().hex[:6]}", "depot_staff"))


def socket(cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost")] + ([(b"cookie", cookie)] if cookie else [])
    return WebsocketCommunicator(application, "/ws/board/", headers=headers)


def run(scenario, *args):
    """Run ``scenario`` on a fresh event loop; then close the loop's feed and the connections Channels opened on
    its database thread."""
    async def main():
        try:
            return await scenario(*args)
        finally:
            await board.stop_feed()
            await sync_to_async(connections.close_all)()
    return asyncio.run(asyncio.wait_for(main(), 120))


async def receive(communicator: WebsocketCommunicator) -> dict:
    """The next message as a browser parses it (money as a plain number)."""
    return json.loads(await communicator.receive_from(timeout=RECEIVE_TIMEOUT))


async def opened(cookie: bytes) -> tuple[WebsocketCommunicator, dict]:
    """A connected board socket and its first message."""
    communicator = socket(cookie)
    connected, _ = await communicator.connect(timeout=RECEIVE_TIMEOUT)
    assert connected
    return communicator, await receive(communicator)


def row(order_id: str, *, status: str, customer: str = "Ann", total: str = "10.00", quantities=(1,),
        created: dt.timedelta = dt.timedelta(0), updated: dt.timedelta = dt.timedelta(0), now=None) -> Order:
    """A search row created ``created`` and updated ``updated`` before ``now`` (default: now)."""
    now = now or codec.utcnow()
    return Order.objects.create(
        order_id=order_id, customer_id=f"customer-{customer}", customer_name=customer, status=status,
        total=D(total), items=[{"product_id": f"p{n}", "store_id": "s", "product_name": "P", "store_name": "S",
                                "price": D("1.00"), "quantity": q} for n, q in enumerate(quantities)],
        product_ids=[], store_ids=[], created_at=now - created, updated_at=now - updated, version=1, items_version=1)


def envelope(message, *, occurred_at: str = "2026-11-22T10:15:30.123456Z") -> bytes:
    return Envelope(id=str(uuid.uuid4()), name=message.message_name, subject=message.subject,
                    payload=codec.loads(codec.dumps(to_dict(message))),
                    metadata={"aggregate_type": "ordering.Order", "aggregate_id": message.id, "aggregate_version": 2,
                              "occurred_at": occurred_at},
                    sent_at=occurred_at).to_json()


async def publish(url: str, *messages: bytes) -> None:
    nc = await nats.connect(servers=[url], connect_timeout=5)
    try:
        for data in messages:
            await nc.publish(contracts.ORDER_EVENTS, data)
        await nc.flush()
    finally:
        await nc.close()


def iso(value: dt.datetime) -> str:
    return codec.format_timestamp(value)


# --- who may connect ------------------------------------------------------------------------------


def close_code(cookie: bytes | None) -> int:
    async def scenario():
        communicator = socket(cookie)
        connected, _ = await communicator.connect(timeout=RECEIVE_TIMEOUT)
        assert connected
        closed = await communicator.receive_output(timeout=RECEIVE_TIMEOUT)
        assert closed["type"] == "websocket.close"
        await communicator.wait()
        return closed["code"]
    return run(scenario)


def test_anonymous_sockets_are_closed_with_4401():
    assert close_code(None) == 4401


def test_sockets_of_users_without_a_depot_role_are_closed_with_4403():
    assert close_code(cookie_of(make_user("shop", "store_admin"))) == 4403
    assert close_code(cookie_of(make_user("plain"))) == 4403


def test_depot_admins_and_superusers_get_the_board(board_nats):
    async def scenario(*cookies):
        for cookie in cookies:
            communicator, first = await opened(cookie)
            assert first == {"type": "snapshot", "orders": []}
            await communicator.disconnect()
    run(scenario, cookie_of(make_user("boss", "depot_admin")), cookie_of(make_user("root", superuser=True)))


# --- the snapshot ---------------------------------------------------------------------------------


def test_the_snapshot_holds_open_orders_and_those_finished_recently_newest_first(board_nats, settings):
    settings.BOARD_RECENT_MINUTES = 60
    now = codec.utcnow()
    row("o-pending", status="pending", customer="Ann", total="24.98", quantities=(2, 1), created=dt.timedelta(minutes=1),
        now=now)
    row("o-ready-old", status="ready", customer="Bob", created=dt.timedelta(days=2), updated=dt.timedelta(days=1),
        now=now)
    row("o-completed", status="completed", customer="Cy", total="5.00", created=dt.timedelta(hours=3),
        updated=dt.timedelta(minutes=50), now=now)
    row("o-cancelled-old", status="cancelled", created=dt.timedelta(hours=3), updated=dt.timedelta(minutes=70),
        now=now)
    row("o-rejected-old", status="rejected", created=dt.timedelta(days=1), updated=dt.timedelta(days=1), now=now)
    row("o-approved", status="approved", customer="Dee", created=dt.timedelta(minutes=2), now=now)

    async def scenario(cookie):
        communicator, first = await opened(cookie)
        await communicator.disconnect()
        return first

    snapshot = run(scenario, depot_cookie())
    assert [o["orderId"] for o in snapshot["orders"]] == ["o-pending", "o-approved", "o-completed", "o-ready-old"]
    assert snapshot["orders"][0] == {
        "orderId": "o-pending", "customerName": "Ann", "status": "pending", "total": 24.98, "itemCount": 3,
        "updatedAt": iso(now)}
    assert snapshot["orders"][2] == {
        "orderId": "o-completed", "customerName": "Cy", "status": "completed", "total": 5.0, "itemCount": 1,
        "updatedAt": iso(now - dt.timedelta(minutes=50))}


def test_the_snapshot_holds_the_200_newest(board_nats):
    now = codec.utcnow()
    Order.objects.bulk_create([
        Order(order_id=f"o-{n:03d}", customer_id="c", customer_name="Ann", status="approved", total=D("1.00"), items=[],
              product_ids=[], store_ids=[], created_at=now - dt.timedelta(seconds=n), updated_at=now, version=1,
              items_version=1)
        for n in range(205)])

    async def scenario(cookie):
        communicator, first = await opened(cookie)
        await communicator.disconnect()
        return first

    snapshot = run(scenario, depot_cookie())
    assert [o["orderId"] for o in snapshot["orders"]] == [f"o-{n:03d}" for n in range(200)]


def test_resync_answers_with_a_fresh_snapshot_and_other_messages_are_ignored(board_nats):
    async def scenario(cookie):
        communicator, first = await opened(cookie)
        assert first == {"type": "snapshot", "orders": []}
        await sync_to_async(row)("o-new", status="approved", customer="Eve")
        await communicator.send_to(text_data="not json")
        await communicator.send_json_to({"type": "hello"})
        await communicator.send_json_to({"type": "resync"})
        again = await receive(communicator)
        await communicator.disconnect()
        return again

    again = run(scenario, depot_cookie())
    assert again["type"] == "snapshot"
    assert [(o["orderId"], o["customerName"], o["status"]) for o in again["orders"]] == [("o-new", "Eve", "approved")]


# --- updates through NATS -------------------------------------------------------------------------


def test_an_order_event_on_nats_reaches_every_board_socket_of_the_process(board_nats):
    row("o-1", status="in-progress", customer="Ann", total="30.00", quantities=(2, 2))
    readied = contracts.OrderReadied(id="o-1", customer_id="customer-Ann", payment_id="pay-1", total=D("24.98"),
                                     items=(contracts.OrderItem(product_id="p0", store_id="s", price=D("12.49"),
                                                                quantity=2),))

    async def scenario(url, first_cookie, second_cookie):
        first, _ = await opened(first_cookie)
        second, _ = await opened(second_cookie)
        await publish(url, envelope(readied, occurred_at="2026-11-22T10:15:30.123456Z"))
        updates = [await receive(first), await receive(second)]
        await first.disconnect()
        await second.disconnect()
        return updates

    updates = run(scenario, board_nats.url, depot_cookie(), depot_cookie())
    expected = {"type": "update", "event": "ordersapi.OrderReadied", "order": {
        "orderId": "o-1", "customerName": "Ann", "status": "ready", "total": 24.98, "itemCount": 4,
        "updatedAt": "2026-11-22T10:15:30.123456Z"}}
    assert updates == [expected, expected]


def test_an_event_before_its_search_row_goes_out_with_what_the_event_has_and_odd_messages_are_skipped(board_nats):
    created = contracts.OrderCreated(id="o-2", customer_id="c-2", payment_id="pay-2", items=(
        contracts.OrderItem(product_id="p", store_id="s", price=D("9.99"), quantity=1),))
    canceled = contracts.OrderCanceled(id="o-2", customer_id="c-2", payment_id="pay-2", reason="customer")

    async def scenario(url, cookie):
        communicator, _ = await opened(cookie)
        odd = json.loads(envelope(contracts.OrderReadied(id="o-2")))
        odd["payload"]["total"] = "a lot"
        await publish(url, b"not an envelope", envelope(contracts.ApproveOrder(id="o-2")), json.dumps(odd).encode(),
                      envelope(created, occurred_at="2026-11-22T10:00:00.000000Z"),
                      envelope(canceled, occurred_at="2026-11-22T10:01:00.000000Z"))
        updates = [await receive(communicator), await receive(communicator)]
        await communicator.disconnect()
        return updates

    first, second = run(scenario, board_nats.url, depot_cookie())
    assert first == {"type": "update", "event": "ordersapi.OrderCreated", "order": {
        "orderId": "o-2", "customerName": "", "status": "pending", "total": 0.0, "itemCount": 0,
        "updatedAt": "2026-11-22T10:00:00.000000Z"}}
    assert (second["event"], second["order"]["status"]) == ("ordersapi.OrderCanceled", "cancelled")


def test_after_nats_comes_back_every_socket_gets_a_snapshot_and_updates_resume(board_nats):
    async def scenario(server, cookie):
        communicator, first = await opened(cookie)
        assert first == {"type": "snapshot", "orders": []}
        await asyncio.to_thread(server.stop)
        await sync_to_async(row)("o-during", status="approved", customer="Fay")
        await asyncio.to_thread(server.start)
        snapshot = await receive(communicator)
        await publish(server.url, envelope(contracts.OrderStarted(id="o-during", bot_id="bot-1")))
        update = await receive(communicator)
        await communicator.disconnect()
        return snapshot, update

    snapshot, update = run(scenario, board_nats, depot_cookie())
    assert snapshot["type"] == "snapshot"
    assert [(o["orderId"], o["status"]) for o in snapshot["orders"]] == [("o-during", "approved")]
    assert (update["event"], update["order"]["customerName"], update["order"]["status"]) == (
        "ordersapi.OrderStarted", "Fay", "in-progress")


def test_a_board_opened_while_nats_is_down_gets_its_snapshot_then_the_feed_once_nats_starts(board_nats):
    board_nats.stop()

    async def scenario(server, cookie):
        communicator, first = await opened(cookie)
        await sync_to_async(row)("o-late", status="pending", customer="Gus")
        await asyncio.to_thread(server.start)
        again = await receive(communicator)
        await publish(server.url, envelope(contracts.OrderApproved(id="o-late")))
        update = await receive(communicator)
        await communicator.disconnect()
        return first, again, update

    first, again, update = run(scenario, board_nats, depot_cookie())
    assert first == {"type": "snapshot", "orders": []}
    assert [o["orderId"] for o in again["orders"]] == ["o-late"]
    assert (update["order"]["orderId"], update["order"]["status"]) == ("o-late", "approved")
