"""The relay module's set-up: other modules' leftovers are marked published and the outbox is settled."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, transaction

from bench import database
from bench.relay import publish_leftovers
from eventstore import outbox
from toyapp.contracts import CounterIncremented

pytestmark = pytest.mark.django_db(transaction=True)


def outbox_state(conninfo: str) -> tuple[int, object]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        unpublished = conn.execute("SELECT count(*) FROM eventstore_outbox WHERE published_at IS NULL").fetchone()[0]
        vacuumed = conn.execute("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'eventstore_outbox'"
                                ).fetchone()[0]
    return unpublished, vacuumed


def test_leftovers_are_marked_published_and_the_outbox_vacuumed_before_a_measurement():
    conninfo = database.conninfo(connection.settings_dict)
    with transaction.atomic():
        for by in range(3):
            outbox.publish(CounterIncremented(id="leftover", by=by))
    _, vacuumed_before = outbox_state(conninfo)

    marked = publish_leftovers(conninfo)

    unpublished, vacuumed_after = outbox_state(conninfo)
    assert (marked, unpublished) == (3, 0)
    assert vacuumed_after is not None and (vacuumed_before is None or vacuumed_after > vacuumed_before)
