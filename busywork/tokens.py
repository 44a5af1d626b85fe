"""The staff token busywork sends when it is given none (needs the database)."""

from __future__ import annotations

import uuid


def issue_busywork_token(username: str = "busywork") -> tuple[str, str]:
    """Get or create the superuser ``username`` and issue it a staff token (1 day); return (raw, prefix).

    Needs database access. A superuser passes every access level (api.md §2.2).
    """
    from django.contrib.auth import get_user_model

    from access.tokens import issue_token

    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_superuser": True, "is_staff": True, "is_active": True})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    elif not (user.is_superuser and user.is_staff and user.is_active):
        user.is_superuser = user.is_staff = user.is_active = True
        user.save(update_fields=["is_superuser", "is_staff", "is_active"])
    token, raw = issue_token("staff", user=user, name=f"busywork {uuid.uuid4().hex[:8]}", expires_days=1)
    return raw, token.prefix
