"""``NOTIFY mallbots_access`` when what a bearer token's read returns may have changed (ADR 33).

Statement triggers on the token table, the users, their role memberships and the roles; on updates only of
the columns that read returns, so recording ``last_used_at`` or ``last_login`` notifies nobody. Web workers
empty their token cache on the notification (``access.token_cache``).
"""

from django.db import migrations

WATCHED = {
    "mallbots_site_apitoken": "UPDATE OF kind, name, user_id, bot_id, token_hash, expires_at, revoked_at",
    "auth_user": "UPDATE OF username, is_active, is_staff, is_superuser",
    "auth_user_groups": "INSERT OR UPDATE",
    "auth_group": "UPDATE OF name",
}

CREATE = """
CREATE OR REPLACE FUNCTION mallbots_access_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('mallbots_access', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"CREATE TRIGGER mallbots_access_changed AFTER {events} OR DELETE OR TRUNCATE ON {table}"
    f" FOR EACH STATEMENT EXECUTE FUNCTION mallbots_access_changed();\n"
    for table, events in WATCHED.items()
)

DROP = "".join(f"DROP TRIGGER IF EXISTS mallbots_access_changed ON {table};\n" for table in WATCHED) + (
    "DROP FUNCTION IF EXISTS mallbots_access_changed();\n")


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunSQL(CREATE, DROP)]
