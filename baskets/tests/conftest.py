"""Credentials for API tests: one bearer header per kind of caller."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from access.tokens import issue_token

CALLERS = ("none", "invalid", "kiosk", "bot", "no_role", "store_staff", "store_admin", "depot_staff",
           "depot_admin", "superuser")


@pytest.fixture
def headers(db):
    """``headers[who]`` → request kwargs with that caller's ``Authorization`` header (``none``: no header)."""
    call_command("setup_roles", verbosity=0)
    result = {"none": {}, "invalid": {"HTTP_AUTHORIZATION": "Bearer staff_not-a-real-token"}}
    _, raw = issue_token("kiosk", name="north-entrance")
    result["kiosk"] = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    _, raw = issue_token("bot", bot_id="bot-1")
    result["bot"] = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    for who in CALLERS[4:]:
        user = User.objects.create_user(f"u-{who}", password=None, is_staff=True, is_superuser=who == "superuser")
        user.groups.set(Group.objects.filter(name=who))
        _, raw = issue_token("staff", user=user)
        result[who] = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    return result
