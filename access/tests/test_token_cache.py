"""The token cache of the web workers (ADR 33): what it keeps, when it serves, and that a change of access
empties it through PostgreSQL's notification."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from access import token_cache
from access.models import ApiToken
from access.tokens import hash_token, issue_token
from eventstore.relay import database_params

ROW = ("row",)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def live_cache(seconds: float = 60.0, clock=time.monotonic) -> token_cache.Cache:
    cache = token_cache.Cache(seconds, clock)
    cache.empty(live=True)
    return cache


def test_nothing_is_served_or_kept_until_the_listener_is_up():
    cache = token_cache.Cache(60.0)
    cache.put("h", ROW, cache.generation)
    assert cache.get("h") is None and cache.entries == {}
    cache.empty(live=True)
    cache.put("h", ROW, cache.generation)
    assert cache.get("h") == ROW
    cache.empty(live=False)
    assert cache.get("h") is None and cache.entries == {}


def test_a_read_that_began_before_an_emptying_is_not_kept():
    cache = live_cache()
    generation = cache.generation
    cache.empty()
    cache.put("h", ROW, generation)
    assert cache.get("h") is None


def test_entries_expire_and_zero_seconds_keeps_nothing():
    clock = Clock()
    cache = live_cache(30.0, clock)
    cache.put("h", ROW, cache.generation)
    clock.now += 30.0
    assert cache.get("h") == ROW
    clock.now += 0.1
    assert cache.get("h") is None
    off = live_cache(0.0)
    off.put("h", ROW, off.generation)
    assert off.entries == {}


def test_touch_replaces_one_column_and_a_full_cache_starts_over(monkeypatch):
    cache = live_cache()
    cache.put("h", ("a", "b"), cache.generation)
    cache.touch("h", 1, "c")
    cache.touch("unknown", 1, "c")
    assert cache.get("h") == ("a", "c") and "unknown" not in cache.entries
    monkeypatch.setattr(token_cache, "MAX_ENTRIES", 2)
    cache.put("i", ROW, cache.generation)
    cache.put("j", ROW, cache.generation)
    assert set(cache.entries) == {"j"}


@pytest.fixture
def serving(monkeypatch):
    """The process's cache as a web worker's listener keeps it: live, 60 s."""
    cache = live_cache()
    monkeypatch.setattr(token_cache, "cache", cache)
    return cache


@pytest.mark.django_db
@pytest.mark.urls("toyapp.api")
def test_a_live_cache_spares_the_token_read_and_last_used_at_is_recorded_once(client, serving,
                                                                                django_assert_num_queries):
    token, raw = issue_token("kiosk", name="k")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    with django_assert_num_queries(2):
        assert client.get("/api/toy/levels/kiosk", **auth).status_code == 200
    with django_assert_num_queries(0):
        assert client.get("/api/toy/levels/kiosk", **auth).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert serving.get(hash_token(raw))[7] == token.last_used_at

    serving.empty(live=False)
    with django_assert_num_queries(1):
        assert client.get("/api/toy/levels/kiosk", **auth).status_code == 200


@contextlib.contextmanager
def listening(cache: token_cache.Cache, **params):
    """``token_cache.listen`` on a loop in a thread of its own, as a web worker runs it."""
    loop = asyncio.new_event_loop()
    stopping = asyncio.Event()
    task = None

    def run():
        nonlocal task
        asyncio.set_event_loop(loop)
        task = loop.create_task(token_cache.listen(cache, {**database_params(), **params}, stopping))
        loop.run_until_complete(task)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stopping.set)
        thread.join(10)
        loop.close()
        assert not thread.is_alive()


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.mark.django_db(transaction=True)
def test_a_change_of_tokens_users_or_roles_empties_the_cache_and_recording_use_does_not():
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user("desk", is_staff=True)
    token, raw = issue_token("staff", user=user)
    cache = token_cache.Cache(300.0)
    changes = {
        "revoke_token": lambda: call_command("revoke_token", token.prefix),
        "deactivate": lambda: User.objects.filter(pk=user.pk).update(is_active=False),
        "join a role": lambda: user.groups.add(Group.objects.get(name="depot_staff")),
        "leave a role": lambda: user.groups.clear(),
        "rename a role": lambda: Group.objects.filter(name="store_staff").update(name="shop_staff"),
        "expire": lambda: ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now()),
    }
    with listening(cache):
        assert wait_for(lambda: cache.live)
        cache.put(raw, ROW, cache.generation)
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        time.sleep(0.5)
        assert cache.get(raw) == ROW
        for change, apply in changes.items():
            cache.put(raw, ROW, cache.generation)
            apply()
            assert wait_for(lambda: cache.get(raw) is None), change
    assert not cache.live


@pytest.mark.django_db(transaction=True)
def test_the_cache_serves_nothing_while_the_listener_cannot_connect():
    cache = token_cache.Cache(300.0)
    params = connection.get_connection_params()
    with listening(cache, port=1, host="127.0.0.1", dbname=params.get("dbname", "x")):
        time.sleep(1.0)
        cache.put("h", ROW, cache.generation)
        assert not cache.live and cache.get("h") is None


@pytest.mark.django_db(transaction=True)
def test_a_listener_whose_connection_is_killed_serves_nothing_until_it_listens_again(monkeypatch):
    monkeypatch.setattr(token_cache, "RETRY_SECONDS", (0.2,))
    cache = token_cache.Cache(300.0)
    with listening(cache, application_name="token-cache-test"):
        assert wait_for(lambda: cache.live)
        cache.put("h", ROW, cache.generation)
        generation = cache.generation
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                           " WHERE application_name = 'token-cache-test'")
        assert wait_for(lambda: cache.generation > generation)
        assert cache.get("h") is None
        assert wait_for(lambda: cache.live)
        assert cache.entries == {}


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_fails_its_periodic_check_turns_the_cache_off_until_it_listens_again(monkeypatch):
    monkeypatch.setattr(token_cache, "CHECK_SECONDS", 0.0)
    monkeypatch.setattr(token_cache, "RETRY_SECONDS", (0.2,))
    monkeypatch.setattr(token_cache, "CHECK_TIMEOUT_SECONDS", 0.0)
    cache = token_cache.Cache(300.0)
    with listening(cache):
        assert wait_for(lambda: cache.live)
        generation = cache.generation
        assert wait_for(lambda: cache.generation > generation + 2)
