"""``rebuild_projections <app>`` gives the read models the live system wrote (architecture.md §9): one test
per app that declares read models, after a day at the mall that leaves every module's aggregates in most of
their states."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import AutoField, BigAutoField

from eventstore import projections
from eventstore.models import Checkpoint, OutboxMessage, StoredEvent
from eventstore.testing import deliver_all
from mallbots_site.tests.scenario import a_day_at_the_mall, checkout

pytestmark = pytest.mark.django_db

APPS = ["baskets", "customers", "depot", "notifications", "ordering", "payments", "search", "stores"]


def snapshot(app: str) -> dict[str, list[dict]]:
    """Every row of the app's read-model tables, without surrogate keys, in a stable order."""
    tables = {}
    for group in projections.groups_of(app):
        for model in group.tables:
            surrogate = {f.attname for f in model._meta.fields if isinstance(f, (AutoField, BigAutoField))}
            rows = [{k: v for k, v in row.items() if k not in surrogate} for row in model.objects.values()]
            tables[model._meta.label] = sorted(rows, key=repr)
    return tables


def test_every_app_with_read_models_declares_them():
    assert projections.apps_with_read_models() == APPS


@pytest.mark.parametrize("app", APPS)
def test_a_rebuild_gives_the_live_read_models(app):
    a_day_at_the_mall()
    live = snapshot(app)
    assert all(live.values()), f"the scenario leaves a table of {app} empty: {[k for k, v in live.items() if not v]}"
    outbox_before = OutboxMessage.objects.count()

    summary = projections.rebuild(app)

    assert snapshot(app) == live
    assert OutboxMessage.objects.count() == outbox_before
    assert summary.events > 0 and summary.rows == {label: len(rows) for label, rows in live.items()}
    newest = StoredEvent.objects.order_by("-global_position").values_list("global_position", flat=True).first()
    assert Checkpoint.objects.get(name=f"projections.{app}").position == summary.position <= newest


@pytest.mark.parametrize("app", ["baskets", "depot", "notifications", "search"])
def test_copies_read_through_the_facades_end_as_a_rebuild_builds_them(app):
    """ADR 34: copies missing when an order needs them (a lagging durable) are read through the owners'
    facades, which give the owners' current versions (the novel and the robot were repriced, Ann's number
    changed); the copies that a rebuild makes from the events must end the same."""
    from django.apps import apps

    mall = a_day_at_the_mall()
    read_through = {mall.novel, mall.robot, mall.books, mall.toys, mall.ann}
    for label in ("baskets.StoreCache", "baskets.ProductCache", "depot.StoreCache", "depot.ProductCache",
                  "notifications.CustomerCache", "search.CustomerCache", "search.StoreCache", "search.ProductCache"):
        apps.get_model(label).objects.filter(pk__in=read_through).delete()
    checkout(mall.ann, [(mall.novel, 1), (mall.robot, 1)])
    deliver_all()
    live = snapshot(app)

    projections.rebuild(app)

    assert snapshot(app) == live


def test_every_durable_feeding_read_models_handles_every_message_of_its_subject():
    """ADR 34: a copy ends at its owner's last version only if every event of the owner's stream reaches it,
    also one that changes nothing it keeps; a message added to a subject must be handled by these durables."""
    from eventstore import messaging, registry

    unhandled = {}
    for app in APPS:
        for group in projections.groups_of(app):
            for name in group.durables:
                durable = messaging.get_durable(name)
                on_subject = {m.name for m in registry.all_messages() if m.subject == durable.subject}
                if on_subject - set(durable.handlers):
                    unhandled[name] = sorted(on_subject - set(durable.handlers))
    assert unhandled == {}


def test_a_rebuild_repairs_a_read_model_that_was_tampered_with():
    mall = a_day_at_the_mall()
    from ordering.models import Order

    live = snapshot("ordering")
    Order.objects.filter(id=mall.orders["completed"]).update(status="pending", total=0)
    Order.objects.filter(id=mall.orders["ready"]).delete()
    projections.rebuild("ordering")
    assert snapshot("ordering") == live


def test_the_command_rebuilds_with_a_summary_and_refuses_unknown_apps():
    a_day_at_the_mall()
    out, err = StringIO(), StringIO()
    call_command("rebuild_projections", "stores", "search", stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("stores: ") and "events replayed up to position" in lines[0]
    assert "rows: stores.Store 2, stores.Product 4" in lines[0]
    assert lines[1].startswith("search: ") and "messages to its durables" in lines[1]
    with pytest.raises(CommandError, match="eventstore declares no read models"):
        call_command("rebuild_projections", "eventstore", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="name an app"):
        call_command("rebuild_projections", stdout=StringIO(), stderr=StringIO())
    all_out = StringIO()
    call_command("rebuild_projections", "--all", "--no-progress", stdout=all_out, stderr=StringIO())
    assert [line.split(":")[0] for line in all_out.getvalue().splitlines()] == APPS


def test_rebuilding_notifications_keeps_the_record_of_what_was_sent():
    from notifications.models import Notification

    a_day_at_the_mall()
    before = list(Notification.objects.order_by("pk").values())
    assert len(before) == 10
    projections.rebuild("notifications")
    assert list(Notification.objects.order_by("pk").values()) == before


def test_a_projection_that_publishes_is_refused_in_a_rebuild():
    from eventstore import outbox, registry
    from stores import contracts, domain

    a_day_at_the_mall()

    @registry.projection(domain.StoreRebranded)
    def misplaced(recorded):
        outbox.publish(contracts.StoreRebranded(id=recorded.stream_id, name="again"), recorded=recorded)

    try:
        with pytest.raises(RuntimeError, match="a projection of stores.StoreRebranded published"):
            projections.rebuild("stores")
    finally:
        registry._handlers[domain.StoreRebranded].remove(misplaced)
        registry._projections.discard(misplaced)


def test_aggregates_evicted_from_memory_are_read_again_from_their_streams(monkeypatch):
    a_day_at_the_mall()
    live = snapshot("ordering")
    monkeypatch.setattr(projections, "AGGREGATES_IN_MEMORY", 1)
    monkeypatch.setattr(projections, "PAGE", 3)
    projections.rebuild("ordering")
    assert snapshot("ordering") == live
