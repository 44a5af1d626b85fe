"""The fault suite (``make faults``, quality.md §2): every fault of the table, injected into the whole system
running as real processes under load (``system.py``: web tier, relay, one consumer process per module,
qcluster, the bot simulator, busywork over HTTP; the suite's PostgreSQL, a nats-server of the module's own).

One system serves the whole module (starting it costs half a minute); each test starts on an empty
database (pytest-django empties the tables after each test, while the drained system idles), drives its own
load, injects its fault, restores the system's shape, waits until the system drained (outbox published,
every durable acked, no saga running) and ends with ``manage.py audit --thorough`` (grace 0, projection drift included) and
the ledger: every published outbox row once in the stream and in the inbox of every durable that takes it
(lost), no second shopping list, invoice or one-time event (duplicated). Each test adds its row to the table
printed at the end of the session (``faultreport.py``). Tests run in file order; one that fails mid-fault may leave
the system in a state that fails the next ones too.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import time
import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from devtools.http import Pool, encode_request
from eventstore.models import DeadLetter, OutboxMessage
from eventstore.tests import processes
from eventstore.tests.crashing import CONSUMER_EXIT_STATUS, RELAY_EXIT_STATUS
from mallbots_site.tests.system import (RESTART_AFTER_SECONDS, SYSTEM_ENV, EmbeddedPostgres, System,
                                        projection_differences, reconnected, rows, scalar)

pytestmark = [pytest.mark.faults, pytest.mark.subprocess, pytest.mark.nats, pytest.mark.django_db(transaction=True)]

MAX_DELIVER = int(SYSTEM_ENV["CONSUMER_MAX_DELIVER"])


@pytest.fixture(scope="module")
def system(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        running = System(tmp_path_factory.mktemp("system"))
        try:
            running.start()
            yield running
        finally:
            running.stop()
            reconnected()


@pytest.fixture(autouse=True)
def fresh(system, transactional_db):
    """Roles, schedules, a token and a catalog on the database pytest-django emptied after the last test;
    the test process reads what the processes committed (autocommit)."""
    system.prepare()
    yield
    reconnected()


def finish(system: System, fault_report, fault: str, load, recovery: str, *, order_kept: bool = True):
    """Drain, take the ledger and the thorough audit, add the row to the report, then assert on them."""
    drained = system.wait_drained()
    ledger = system.ledger()
    ok, summary, findings = system.audit(thorough=True)
    breached = [f for f in findings if f["breach"]]
    fault_report.fault(fault, load=load.describe() if hasattr(load, "describe") else load, lost=ledger.lost,
                       duplicated=ledger.duplicated, recovery=f"{recovery}; drained {drained:.0f} s after the load",
                       audit=summary)
    if not ok:
        drift = [line for f in breached if f["check"] == "projection-drift"
                 for app in sorted({label.split(".")[0] for label in re.findall(r"(\w+)\.\w+", f["detail"])})
                 for line in projection_differences(app)]
        (system.directory / "projection-drift.txt").write_text("\n".join(drift))
        raise AssertionError(f"{breached}; drift (also in {system.directory}/projection-drift.txt): {drift}")
    assert ledger.lost == 0, ledger.undelivered[:10]
    assert ledger.duplicated == 0, ledger.business_duplicates
    if order_kept:
        assert ledger.order_breaks == [], ledger.order_breaks[:10]
    return ledger


def no_problems(load) -> None:
    """Every order busywork followed reached the outcome its payment called for; no client-side error."""
    summary = load.summary
    assert summary.unresolved == 0, summary.to_dict()
    assert not [kind for kind in summary.errors if kind.startswith(("unexpected", "busywork"))], summary.errors
    assert summary.checkouts > 0 and summary.approved > 0


def after(log: str, marker: str) -> str:
    return log.split(marker, 1)[1] if marker in log else ""


# ---------------------------------------------------------------------------------------------- the crashes


def test_relay_killed_after_the_jetstream_ack_before_marking_republishes_and_the_duplicate_window_drops_it(
        system, fault_report):
    with system.load(seconds=20) as load:
        time.sleep(5)
        system.stop_process("relay")
        crashing = system.start_process("relay", ["run_relay"], crash="relay-after-ack")
        assert crashing.wait(60) == RELAY_EXIT_STATUS
        crashed_at = time.time()
        time.sleep(RESTART_AFTER_SECONDS)
        relay = system.start_process("relay", ["run_relay"])
        republished = processes.wait_until(
            lambda: re.search(r"published \d+ messages \(([1-9]\d*) duplicates\)",
                              after(relay.log(), "relay exiting after")), 30, "the republished rows")
    no_problems(load)
    resumed = scalar("SELECT extract(epoch FROM min(published_at)) FROM eventstore_outbox"
                     " WHERE published_at > to_timestamp(%s)", [crashed_at])
    finish(system, fault_report, "relay SIGKILL-like exit after the ack, before marking (then restarted)", load,
           f"publishing resumed {float(resumed) - crashed_at:.1f} s after the crash (restart after "
           f"{RESTART_AFTER_SECONDS:.0f} s); {republished.group(1)} rows republished, dropped as duplicates")


def test_consumer_killed_after_its_commit_before_the_ack_is_redelivered_and_the_inbox_absorbs_it(
        system, fault_report):
    with system.load(seconds=25) as load:
        time.sleep(5)
        system.stop_process("consumers-ordering")
        crashing = system.start_process("consumers-ordering", ["run_consumers", "--modules", "ordering"],
                                        crash="consumer-after-commit")
        assert crashing.wait(60) == CONSUMER_EXIT_STATUS
        crashed_at = time.time()
        time.sleep(RESTART_AFTER_SECONDS)
        consumers = system.start_process("consumers-ordering", ["run_consumers", "--modules", "ordering"])
        processes.wait_until(lambda: "outcome=duplicate" in after(consumers.log(), "exiting after commit"), 60,
                             "the redelivered message recognised by the inbox")
        recognised_at = time.time()
    no_problems(load)
    finish(system, fault_report, "consumer (ordering) exit after its commit, before the ack (then restarted)", load,
           f"redelivery recognised as a duplicate {recognised_at - crashed_at:.1f} s after the crash "
           f"(ack wait {SYSTEM_ENV['CONSUMER_ACK_WAIT_SECONDS']} s)")


def test_random_sigkill_of_relay_consumers_and_web_workers_for_60_seconds_loses_and_duplicates_nothing(
        system, fault_report):
    """Every 2-5 s one of relay, a consumer process or a web worker gets SIGKILL; relay and consumers are
    started again 2 s later (as ``run_all``'s supervisor does), web workers by gunicorn's arbiter. No target is
    killed more than 3 times (``run_all`` gives up on a child after 5 exits in a minute)."""
    rng = random.Random(15)
    targets = ["relay"] + [f"consumers-{module}" for module in system.modules] + ["web-worker"]
    kills: list[tuple[float, str, int]] = []
    due: list[tuple[float, str]] = []
    with system.load(seconds=60) as load:
        next_kill = time.time() + rng.uniform(2, 5)
        while time.time() < load.started + 57:
            now = time.time()
            for moment, name in [d for d in due if d[0] <= now]:
                system.start_process(name, system.managed[name].command)
                due.remove((moment, name))
            if now >= next_kill:
                eligible = [t for t in targets if sum(k[1] == t for k in kills) < 3
                            and t not in {name for _, name in due}]
                target = rng.choice(eligible)
                if target == "web-worker":
                    pid = rng.choice(system.web_workers())
                    os.kill(pid, signal.SIGKILL)
                else:
                    pid = system.kill(target)
                    due.append((now + RESTART_AFTER_SECONDS, target))
                kills.append((now, target, pid))
                next_kill = now + rng.uniform(2, 5)
            time.sleep(0.1)
        for _, name in due:
            system.start_process(name, system.managed[name].command)
    assert len(system.web_workers()) == int(SYSTEM_ENV["WEB_WORKERS"])
    assert not system.exited()
    no_problems(load)
    pause = system.longest_pause("ordering.OrderApproved", load.started + 5, load.started + 60)
    killed = ", ".join(f"{name} ×{sum(k[1] == name for k in kills)}" for name in dict.fromkeys(k[1] for k in kills))
    finish(system, fault_report, f"SIGKILL ×{len(kills)} at random over 60 s ({killed})", load,
           f"longest pause in approvals {pause:.1f} s")


# ---------------------------------------------------------------------------------------------- the servers


def test_nats_stopped_for_30_seconds_under_load_the_relay_and_consumers_recover_without_a_restart(
        system, fault_report):
    before = system.pids()
    with system.load(seconds=60) as load:
        time.sleep(12)
        system.nats.stop()
        stopped_at = time.time()
        time.sleep(30)
        unpublished = scalar("SELECT count(*) FROM eventstore_outbox WHERE published_at IS NULL")
        system.nats.start()
        back_at = time.time()
    assert system.pids() == before, "a process was restarted"
    no_problems(load)
    assert unpublished > 0, "the outbox should have filled while NATS was down"
    approved = system.first_event_after("ordering.OrderApproved", back_at)
    finish(system, fault_report, "NATS stopped for 30 s, then started", load,
           f"{unpublished} rows waited; first approval {approved - back_at:.1f} s after NATS was back; "
           f"no process restarted")
    assert stopped_at < back_at


def test_postgresql_restarted_under_load_the_web_answers_503_and_every_process_recovers_without_a_restart(
        system, fault_report):
    postgres = EmbeddedPostgres.of_this_suite()
    if postgres is None:
        pytest.skip("the suite's database is not the embedded PostgreSQL; restart it by hand")
    before = system.pids()
    request = encode_request("GET", "/api/stores", f"127.0.0.1:{system.port}",
                             ["Accept: application/json", f"Authorization: Bearer {system.token}"])

    async def probe() -> int:
        pool = Pool("127.0.0.1", system.port, timeout=5)
        try:
            return (await pool.send(request)).status
        finally:
            await pool.close()

    while_down: list[int] = []
    with system.load(seconds=45) as load:
        time.sleep(12)
        postgres.stop()
        down_at = time.time()
        while time.time() < down_at + 10:
            while_down.append(asyncio.run(probe()))
            time.sleep(1)
        readiness = system.answers("/readiness")
        postgres.start()
        up_at = time.time()
    assert system.pids() == before, "a process was restarted"
    assert set(while_down) == {503} and not readiness
    summary = load.summary
    assert {status for status in summary.statuses if status.startswith("5")} <= {"503"}, summary.statuses
    assert summary.unresolved == 0 and summary.approved > 0
    approved = system.first_event_after("ordering.OrderApproved", up_at)
    finish(system, fault_report, "PostgreSQL stopped for 10 s (pg_ctl -m fast), then started", load,
           f"API 503 while down ({len(while_down)} probes); first approval {approved - up_at:.1f} s after it was "
           f"back; no process restarted")


# ---------------------------------------------------------------------------------------------- two relays


def relay_lock_holder() -> int | None:
    holders = [int(name.split(":")[1]) for (name,) in rows(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'mallbots-relay:%%'")]
    assert len(holders) <= 1, holders
    return holders[0] if holders else None


def test_two_relays_only_one_publishes_and_the_standby_takes_over_within_5_seconds_keeping_order(
        system, fault_report):
    standby = system.start_process("relay-b", ["run_relay"])
    standby.wait_for_log("standby: another relay holds", timeout=60)
    with system.load(seconds=30) as load:
        time.sleep(8)
        assert relay_lock_holder() == system.managed["relay"].pid
        assert "published" not in standby.log()
        system.kill("relay")
        killed_at = time.time()
        processes.wait_until(lambda: relay_lock_holder() == standby.pid, 10, "the standby holding the lock",
                             interval=0.05)
        takeover = time.time() - killed_at
        published = processes.wait_until(
            lambda: scalar("SELECT extract(epoch FROM min(published_at)) FROM eventstore_outbox"
                           " WHERE published_at > to_timestamp(%s)", [killed_at]), 20, "a row published")
        time.sleep(max(0.0, killed_at + RESTART_AFTER_SECONDS - time.time()))
        system.start_process("relay", ["run_relay"]).wait_for_log("standby: another relay holds", timeout=60)
    no_problems(load)
    system.stop_process("relay-b")
    processes.wait_until(lambda: relay_lock_holder() == system.managed["relay"].pid, 10, "the first relay active again")
    ledger = finish(system, fault_report, "two relays, the active one SIGKILLed", load,
                    f"standby took the lock {takeover:.1f} s after the kill, published "
                    f"{float(published) - killed_at:.1f} s after it")
    assert takeover <= 5
    assert ledger.order_breaks == []


# ---------------------------------------------------------------------------------------------- bad messages


def toy_counter(title: str = "toy", increments: int = 0) -> str:
    from eventstore.repository import Repository
    from toyapp.domain import Counter

    repo = Repository(Counter)
    counter = Counter.open(str(uuid.uuid4()), title, Decimal("0"))
    for _ in range(increments):
        counter.increment(1)
    with transaction.atomic():
        repo.create(counter)
    return counter.id


def test_a_handler_that_always_fails_dead_letters_after_max_deliver_later_messages_flow_and_replay_works(
        system, fault_report):
    from toyapp.models import Fault, Tally

    poison = str(uuid.uuid4())
    Fault.objects.update_or_create(durable="toy-counters", defaults={"always_fail": True, "only_counter": poison})
    healthy: list[str] = []
    with system.load(seconds=30) as load:
        from eventstore.repository import Repository
        from toyapp.domain import Counter

        counter = Counter.open(poison, "poison", Decimal("0"))
        counter.increment(2)
        with transaction.atomic():
            Repository(Counter).create(counter)
        failing = OutboxMessage.objects.get(name="toyapi.CounterIncremented", payload__id=poison)
        started = time.time()
        while time.time() < started + 20:
            healthy.append(toy_counter(increments=3))
            time.sleep(1)
        dead = processes.wait_until(lambda: DeadLetter.objects.filter(message_id=str(failing.message_id)).first(),
                                    60, "the dead letter")
        dead_at = time.time()
    no_problems(load)
    processes.wait_until(lambda: Tally.objects.filter(counter_id__in=healthy, handled=3).count() == len(healthy), 60,
                         "every healthy counter handled")
    assert (dead.consumer, dead.deliveries) == ("toy-counters", MAX_DELIVER)
    assert dead.error["type"] == "RuntimeError" and dead.error["text"] == f"toy fault on delivery {MAX_DELIVER}"
    assert not Tally.objects.filter(counter_id=poison, handled__gt=0).exists()
    Fault.objects.filter(durable="toy-counters").update(always_fail=False)
    replayed = processes.ManagedProcess(system.manage + ["replay_dead_letters", "--consumer", "toy-counters"],
                                        system.env, system.directory / "replay.log")
    assert replayed.wait(120) == 0, replayed.log()
    assert Tally.objects.get(counter_id=poison).total == 2
    finish(system, fault_report, "a handler that always fails (toy-counters, one poison message)", load,
           f"dead letter after {dead.deliveries} deliveries, {dead_at - started:.0f} s; {len(healthy)} later "
           f"counters handled meanwhile; replayed after the fix")


def test_an_unparseable_message_on_a_subscribed_subject_is_dead_lettered_at_once_and_the_consumers_go_on(
        system, fault_report):
    from eventstore import deadletters, messaging
    from eventstore.tests.consumer_support import publish_raw

    subject = "mallbots.ordering.events.Order"
    subscribed = sorted(d.name for d in messaging.durables() if d.subject == subject)
    message_id = str(uuid.uuid4())
    with system.load(seconds=20) as load:
        time.sleep(5)
        publish_raw(b'{"id": "not an envelope', message_id=message_id, subject=subject, nats_url=system.nats.url)
        sent_at = time.time()
        letters = processes.wait_until(
            lambda: (lambda found: found if len(found) == len(subscribed) else None)(
                list(DeadLetter.objects.filter(message_id=message_id))), 30, "a dead letter per subscribed durable")
        recorded_at = time.time()
        approved_after = processes.wait_until(lambda: system.first_event_after("ordering.OrderApproved", recorded_at),
                                              30, "an approval after the dead letters")
    no_problems(load)
    assert sorted(letter.consumer for letter in letters) == subscribed
    assert all(letter.deliveries == 1 and letter.raw.startswith('{"id": "not') for letter in letters)
    for letter in letters:
        deadletters.discard(letter)
    finish(system, fault_report, f"an unparseable message on {subject} ({len(subscribed)} durables)", load,
           f"dead-lettered by every durable within {recorded_at - sent_at:.2f} s, 1 delivery each; an order "
           f"approved {approved_after - recorded_at:.1f} s later; discarded by the operator")


def test_an_unpublishable_outbox_row_is_dead_lettered_by_the_relay_and_the_rows_behind_it_flow(
        system, fault_report):
    with system.load(seconds=20) as load:
        time.sleep(5)
        huge = toy_counter(title="x" * 1_100_000)
        row = OutboxMessage.objects.get(name="toyapi.CounterOpened", payload__id=huge)
        dead = processes.wait_until(
            lambda: OutboxMessage.objects.filter(position=row.position, dead_lettered_at__isnull=False).first(), 30,
            "the row dead-lettered")
        behind = processes.wait_until(
            lambda: OutboxMessage.objects.filter(position__gt=row.position, published_at__isnull=False).count(), 30,
            "rows behind it published")
    no_problems(load)
    assert dead.published_at is None and "max_payload" in dead.last_error, dead.last_error
    system.wait_drained()
    assert system.audit(thorough=False)[0] is False, "the dead-lettered row must show in the audit"
    relay = system.managed["relay"]
    before = relay.log().count("nats reconnected")
    system.nats.stop()
    system.nats.start(max_payload=2 * 1024 * 1024)
    relay.wait_for_log("nats reconnected", count=before + 1, timeout=60)
    retried_at = time.time()
    assert OutboxMessage.objects.filter(pk=row.pk, published_at__isnull=True).update(dead_lettered_at=None) == 1
    processes.wait_until(lambda: OutboxMessage.objects.filter(pk=row.pk, published_at__isnull=False).exists(), 90,
                         "the row published after the fix")
    published_after = time.time() - retried_at
    finish(system, fault_report, "an outbox row over NATS's max_payload (1.1 MB)", load,
           f"dead-lettered with {dead.attempts} attempt(s), {behind} rows behind it published; after raising "
           f"max_payload and 'retry': published in {published_after:.1f} s")


# ---------------------------------------------------------------------------------------------- conflicts


async def concurrent_add_items(system: System, basket_id: str, product_id: str, n: int) -> list[int]:
    import json

    pool = Pool("127.0.0.1", system.port, timeout=30, max_connections=n)
    body = json.dumps({"productId": product_id, "quantity": 1}).encode()
    request = encode_request("PUT", f"/api/baskets/{basket_id}/addItem", f"127.0.0.1:{system.port}",
                             ["Accept: application/json", "Content-Type: application/json",
                              f"Authorization: Bearer {system.token}"], body)
    start = asyncio.Event()

    async def one() -> int:
        await start.wait()
        return (await pool.send(request)).status

    tasks = [asyncio.ensure_future(one()) for _ in range(n)]
    await asyncio.sleep(0.2)
    start.set()
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        await pool.close()


def test_50_concurrent_conflicting_commands_on_one_aggregate_get_200_or_409_and_no_update_is_lost(
        system, fault_report):
    from busywork.http import HttpClient

    async def prepare():
        http = HttpClient(system.base_url, system.token)
        try:
            customer = (await http.request("POST", "/api/customers", {"name": "Con Current",
                                                                      "smsNumber": "555-0150"})).body["id"]
            basket = (await http.request("POST", "/api/baskets", {"customerId": customer})).body["id"]
            store = (await http.request("GET", "/api/stores/participating")).body["stores"][0]["id"]
            product = (await http.request("GET", f"/api/stores/{store}/products")).body["products"][0]["id"]
            return basket, product
        finally:
            await http.close()

    basket_id, product_id = asyncio.run(prepare())
    statuses = asyncio.run(concurrent_add_items(system, basket_id, product_id, 50))

    async def quantity():
        http = HttpClient(system.base_url, system.token)
        try:
            items = (await http.request("GET", f"/api/baskets/{basket_id}")).body["basket"]["items"]
            return sum(item["quantity"] for item in items)
        finally:
            await http.close()

    final = asyncio.run(quantity())
    ok, conflicts = statuses.count(200), statuses.count(409)
    events = scalar("SELECT count(*) FROM eventstore_event WHERE stream_id = %s AND event_name = 'baskets.BasketItemAdded'",
                    [basket_id])
    finish(system, fault_report, "50 concurrent addItem on one basket (real HTTP, 2 web workers)",
           f"50 requests at once: {ok} × 200, {conflicts} × 409",
           f"final quantity {final} = the 200s; {events} BasketItemAdded events")
    assert ok + conflicts == 50, statuses
    assert final == ok == events
