"""WebSocket on the web tier (ADR 23): the board socket ``/ws/board/`` served on the same port as the API.

The project's web tier as ``run_all`` starts it (``bench.servers.project_web``) is given ``SOCKETS`` board
connections of a signed-in depot user (a session cookie made in the bench database), ``BATCH`` at a time:
each is a handshake, Channels' session lookup, the role check and the first message (the snapshot). Then
every open socket asks for a resync at once and waits for its snapshot, ``ctx.reps`` times.

Figures (informational; the board's own figure, order event → socket, is ``bench.board``'s):
``ws_board_connect`` (sockets opened per second, p50/p99 of one connect in the note) and
``ws_board_resync`` (snapshot round trips per second over the open sockets; each snapshot is a query of the
search read model on the worker's database thread). Port: ``port_base + 10``.
"""

from __future__ import annotations

import asyncio
import json
import time

from bench import core, servers
from devtools.stats import percentile

NAME = "websocket"
PROVIDES: tuple[str, ...] = ()
SOCKETS = 100
BATCH = 10
PORT_OFFSET = 10


def depot_session() -> str:
    """A session cookie of a depot_staff user in the bench database."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    call_command("setup_roles", verbosity=0)
    user, _ = User.objects.get_or_create(username="bench-depot", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="depot_staff"))
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


async def open_board_socket(url: str, origin: str, cookie: str, latencies: list[float]):
    from websockets.asyncio.client import connect

    started = time.perf_counter()
    socket = await connect(url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=30)
    message = json.loads(await asyncio.wait_for(socket.recv(), 30))
    if message.get("type") != "snapshot":
        raise RuntimeError(f"unexpected first message {message}")
    latencies.append(time.perf_counter() - started)
    return socket


async def _resync(socket) -> None:
    await socket.send(json.dumps({"type": "resync"}))
    message = json.loads(await asyncio.wait_for(socket.recv(), 30))
    if message.get("type") != "snapshot":
        raise RuntimeError(f"unexpected answer {message}")


async def _measure(base: str, cookie: str, reps: int) -> tuple[float, list[float], list[float]]:
    url, latencies, sockets = base.replace("http://", "ws://") + "/ws/board/", [], []
    started = time.perf_counter()
    try:
        while len(sockets) < SOCKETS:
            sockets += await asyncio.gather(*(open_board_socket(url, base, cookie, latencies) for _ in range(BATCH)))
        connect_rate = core.rate(len(sockets), time.perf_counter() - started)
        resync_rates = []
        for _ in range(reps):
            clock = time.perf_counter()
            await asyncio.gather(*(_resync(socket) for socket in sockets))
            resync_rates.append(core.rate(len(sockets), time.perf_counter() - clock))
        return connect_rate, latencies, resync_rates
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)


def run(ctx: core.Context) -> list[core.Figure]:
    try:
        cookie = depot_session()
        with servers.project_web(ctx, ctx.port(PORT_OFFSET)) as base:
            connects = [asyncio.run(_measure(base, cookie, ctx.reps)) for _ in range(ctx.reps)]
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return [core.skipped("ws_board_connect", reason, unit="sockets/s"),
                core.skipped("ws_board_resync", reason, unit="msg/s")]
    latencies = [latency for _, run_latencies, _ in connects for latency in run_latencies]
    p50, p99 = (round(percentile(latencies, p) * 1000, 1) for p in (50, 99))
    workers = ctx.settings.WEB_WORKERS
    return [
        core.measured("ws_board_connect", [rate for rate, _, _ in connects], "sockets/s",
                      note=f"{SOCKETS} board sockets of a depot session, {BATCH} at a time, {workers} web workers; "
                           f"connect to first snapshot p50 {p50} ms, p99 {p99} ms"),
        core.measured("ws_board_resync", [rate for _, _, rates in connects for rate in rates], "msg/s",
                      note=f"resync → snapshot on {SOCKETS} open sockets at once"),
    ]
