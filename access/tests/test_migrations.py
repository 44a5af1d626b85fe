"""The move of ``ApiToken`` from ``mallbots_site`` to ``access`` on a database migrated before it (ADR 14)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from access.models import ApiToken
from access.tokens import hash_token


def migrate(*, before_the_move: bool):
    """Migrate every app to its latest migration, or to the state before ``mallbots_site.0002`` (when
    ``ApiToken`` was ``mallbots_site``'s); return the models of that state."""
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    if before_the_move:
        targets = [node for node in targets if node[0] not in ("access", "mallbots_site")]
        targets.append(("mallbots_site", "0001_initial"))
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_an_existing_database_keeps_its_table_tokens_content_type_and_permissions():
    try:
        old = migrate(before_the_move=True)
        content_type = old.get_model("contenttypes", "ContentType").objects.get(app_label="mallbots_site",
                                                                                model="apitoken")
        group = old.get_model("auth", "Group").objects.create(name="token-viewers")
        group.permissions.add(old.get_model("auth", "Permission").objects.get(content_type=content_type,
                                                                              codename="view_apitoken"))
        old.get_model("mallbots_site", "ApiToken").objects.create(kind="kiosk", name="old-kiosk", prefix="kiosk_abcdef",
                                                                  token_hash=hash_token("kiosk_abcdef"))
    finally:
        migrate(before_the_move=False)
        ContentType.objects.clear_cache()

    assert ApiToken._meta.db_table == "mallbots_site_apitoken"
    assert ApiToken.objects.get(token_hash=hash_token("kiosk_abcdef")).name == "old-kiosk"
    moved = ContentType.objects.get(pk=content_type.pk)
    assert (moved.app_label, moved.model) == ("access", "apitoken")
    assert not ContentType.objects.filter(app_label="mallbots_site").exists()
    assert [(p.content_type_id, p.codename) for p in group.permissions.all()] == [(moved.pk, "view_apitoken")]
