"""``ApiToken`` moves to the ``access`` app (ADR 14): it leaves this app's state; its table stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("mallbots_site", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="ApiToken")]),
    ]
