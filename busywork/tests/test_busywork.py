"""Busywork: the HTTP client and pacer on their own, then a short run against the real processes."""

import asyncio
import time

import pytest
from django.conf import settings
from django.core.management import call_command

from busywork import Summary, issue_busywork_token, run_load
from busywork.http import HttpClient, RequestFailed
from busywork.kiosk import Pacer
from mallbots_site.management.commands.busywork import parse_mix


async def _serve(responses: list[bytes]):
    """A one-connection-at-a-time server answering each request with the next canned response."""
    seen: list[bytes] = []

    async def handle(reader, writer):
        while responses:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                seen.append(head + await reader.readexactly(length))
            except asyncio.IncompleteReadError:
                break
            answer = responses.pop(0)
            writer.write(answer)
            await writer.drain()
            if b"Connection: close" in answer:
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


def test_given_chunked_and_closing_answers_when_requesting_then_bodies_parse_and_the_client_reconnects():
    async def scenario():
        server, port, seen = await _serve([
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"6\r\n{\"id\":\r\n5\r\n \"a1\"\r\n1\r\n}\r\n0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 31\r\nConnection: close\r\n\r\n"
            b'{"code": 3, "message": "nope"} ',
            b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{\"price\": 9.9}",
        ])
        client = HttpClient(f"http://127.0.0.1:{port}", "staff_x")
        try:
            first = await client.request("POST", "/api/stores", {"name": "n"})
            second = await client.request("GET", "/api/stores/a1")
            third = await client.request("GET", "/api/stores/products/p")
        finally:
            await client.close()
            server.close()
        return first, second, third, seen

    first, second, third, seen = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert (first.status, first.body) == (200, {"id": "a1"})
    assert (second.status, second.message) == (400, "nope")
    assert third.status == 200 and str(third.body["price"]) == "9.9"
    assert b"Authorization: Bearer staff_x" in seen[0] and b"Content-Type: application/json" in seen[0]
    assert seen[0].endswith(b'\r\n\r\n{"name": "n"}')
    assert seen[1].startswith(b"GET /api/stores/a1 HTTP/1.1")


def test_given_no_server_when_requesting_then_a_connection_error_is_raised():
    async def scenario():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(RequestFailed, match="connection error"):
            await HttpClient(f"http://127.0.0.1:{port}", timeout=2).request("GET", "/liveness")

    asyncio.run(scenario())


def test_given_a_rate_then_the_pacer_grants_at_most_that_many_slots_before_the_deadline():
    async def scenario():
        pacer, until = Pacer(20), time.monotonic() + 0.5
        granted = 0
        while await pacer.wait(until):
            granted += 1
        return granted

    assert 1 <= asyncio.run(scenario()) <= 11


def test_mix_weights_parse_and_unknown_behaviours_are_refused():
    from django.core.management.base import CommandError

    assert parse_mix("buy=3, browse") == {"buy": 3.0, "browse": 1.0}
    with pytest.raises(CommandError):
        parse_mix("dance=1")


def test_problems_count_server_errors_unanswered_requests_and_wrong_outcomes_but_not_4xx():
    summary = Summary(duration=10, clients=1, rate=0, requests=10, statuses={}, server_errors=2, actions={},
                      errors={"500 addItem: internal error": 2, "400 increasePrice: the price change would be a "
                              "decrease": 5, "timeout getOrder": 1, "unexpected rejected: an order paid in full": 1},
                      checkouts=3, approved=1, rejected=1, rejected_expected=0, unresolved=1, approved_ms=[120.0],
                      final_ms=[120.0, 300.0])
    assert summary.problems == 2 + 1 + 1 + 1
    assert summary.latency(50) == 120.0 and summary.to_dict()["checkouts_per_second"] == 0.3


@pytest.mark.nats
@pytest.mark.subprocess
@pytest.mark.django_db(transaction=True)
def test_given_the_whole_system_when_busywork_runs_then_no_server_error_and_checkouts_reach_a_final_state(tmp_path):
    from eventstore.tests.processes import delete_stream, run_command, subprocess_env
    from mallbots_site.tests.webtier import web_tier

    delete_stream(settings.NATS_URL, settings.NATS_STREAM)
    call_command("ensure_stream")
    call_command("setup_roles", verbosity=0)
    token, _ = issue_busywork_token()
    env = subprocess_env()
    with web_tier(tmp_path / "web.log") as base_url, \
            run_command("run_relay", env=env, log_path=tmp_path / "relay.log"), \
            run_command("run_consumers", env=env, log_path=tmp_path / "consumers.log") as consumers:
        consumers.wait_for_log("consuming mallbots.cosec.replies", timeout=30)
        summary = asyncio.run(run_load(base_url, token, clients=3, duration=10, seed=11, poll_grace=20))

    print(summary.format())
    assert summary.server_errors == 0, summary.format()
    assert not [kind for kind in summary.errors if not kind[:1].isdigit() and not kind.startswith("timeout")], \
        summary.format()
    assert summary.checkouts >= 1 and summary.approved + summary.rejected >= 1, summary.format()
    assert summary.actions.get("buy", 0) >= 1 and summary.requests > 20
    assert sum(summary.operations.values()) == summary.requests
    assert summary.operations["checkoutBasket"] >= summary.checkouts and summary.operations["getOrder"] >= 1
