"""Search items keep ids, price and quantity; the API names them from the caches (ADR 34). Existing rows lose
the names they were written with, as a rebuild would write them."""

from django.db import migrations

STRIP_NAMES = """
UPDATE search_order SET items = (
    SELECT coalesce(jsonb_agg(item - 'product_name' - 'store_name' ORDER BY position), '[]'::jsonb)
    FROM jsonb_array_elements(items) WITH ORDINALITY AS t(item, position))
WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(items) AS item WHERE item ? 'product_name' OR item ? 'store_name')
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0002_board_updated_index")]

    operations = [migrations.RunSQL(STRIP_NAMES, migrations.RunSQL.noop)]
