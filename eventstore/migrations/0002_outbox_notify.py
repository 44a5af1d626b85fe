from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION eventstore_outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('mallbots_outbox', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER eventstore_outbox_notify
AFTER INSERT ON eventstore_outbox
FOR EACH STATEMENT EXECUTE FUNCTION eventstore_outbox_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS eventstore_outbox_notify ON eventstore_outbox;
DROP FUNCTION IF EXISTS eventstore_outbox_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0001_initial")]
    operations = [migrations.RunSQL(CREATE, DROP)]
