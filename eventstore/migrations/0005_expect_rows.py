"""``eventstore_expect_rows``: a version-checked update that can travel deferred (ADR 28).

A saga instance update must change exactly one row (events.md §6.2 rule 10). Sent as
``WITH changed AS (UPDATE … RETURNING 1) SELECT eventstore_expect_rows((SELECT count(*) FROM changed), 1, 'saga')``
the check happens on the server, so the statement needs no round trip of its own: a conflict fails the
transaction where it is sent (with the next statement or at commit) and rolls it back.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION eventstore_expect_rows(actual bigint, expected bigint, thing text) RETURNS void AS $$
BEGIN
    IF actual <> expected THEN
        RAISE EXCEPTION 'eventstore_version_conflict: the % was changed by another transaction', thing;
    END IF;
END;
$$ LANGUAGE plpgsql;
"""

DROP = "DROP FUNCTION IF EXISTS eventstore_expect_rows(bigint, bigint, text);"


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0004_outbox_dead_letters")]
    operations = [migrations.RunSQL(CREATE, DROP)]
