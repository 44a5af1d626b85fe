"""Create-order sagas in flight whose order was cancelled before approval get ``order_cancelled`` in their data,
which rule 5 now reads instead of the order row (ADR 29)."""

from django.db import migrations

FLAG = """
UPDATE eventstore_sagainstance s SET data = s.data || '{"order_cancelled": true}'::jsonb, version = s.version + 1
  FROM ordering_order o
 WHERE s.saga_name = 'cosec.CreateOrder' AND s.status IN ('running', 'compensating')
   AND o.id = s.saga_id AND o.status = 'cancelled' AND o.shopping_id = ''
"""


class Migration(migrations.Migration):
    dependencies = [("ordering", "0001_initial"), ("eventstore", "0005_expect_rows")]
    operations = [migrations.RunSQL(FLAG, migrations.RunSQL.noop)]
