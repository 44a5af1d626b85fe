"""``ApiToken`` arrives from ``mallbots_site`` (ADR 14).

The table ``mallbots_site_apitoken`` was created by ``mallbots_site.0001_initial`` and keeps its name,
so this migration changes only the migration state. The model's content type is relabelled, so the
permissions and admin log entries that point at it follow the model.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def relabel_content_type(from_label: str, to_label: str):
    def relabel(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
        if not content_types.filter(app_label=to_label, model="apitoken").exists():
            content_types.filter(app_label=from_label, model="apitoken").update(app_label=to_label)

    return relabel


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("mallbots_site", "0002_apitoken_moves_to_access"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name="ApiToken",
                fields=[
                    ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                               verbose_name="ID")),
                    ("kind", models.CharField(choices=[("kiosk", "kiosk"), ("staff", "staff"), ("bot", "bot")],
                                              max_length=10)),
                    ("name", models.CharField(blank=True, default="", help_text="Kiosk device name", max_length=100)),
                    ("bot_id", models.CharField(blank=True, default="", max_length=64)),
                    ("prefix", models.CharField(db_index=True, max_length=12)),
                    ("token_hash", models.CharField(max_length=64, unique=True)),
                    ("created_at", models.DateTimeField(auto_now_add=True)),
                    ("expires_at", models.DateTimeField(blank=True, null=True)),
                    ("revoked_at", models.DateTimeField(blank=True, null=True)),
                    ("last_used_at", models.DateTimeField(blank=True, null=True)),
                    ("user", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                               to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    "verbose_name": "API token",
                    "db_table": "mallbots_site_apitoken",
                },
            ),
        ]),
        migrations.RunPython(relabel_content_type("mallbots_site", "access"),
                             relabel_content_type("access", "mallbots_site")),
    ]
