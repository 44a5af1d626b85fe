"""Bearer tokens and staff sessions: issuing, revoking and authenticating (api.md §2.1, architecture.md §11).

Only a token's SHA-256 and its 12-character prefix are stored; the raw text is shown once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions

from access import token_cache
from access.models import ApiToken
from access.principals import DevicePrincipal, actor_of, effective_roles
from eventstore import context, rows

logger = logging.getLogger("mallbots.access")

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(kind: str, *, name: str = "", user=None, bot_id: str = "",
                expires_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw text (shown once, never stored)."""
    if kind not in (ApiToken.KIOSK, ApiToken.STAFF, ApiToken.BOT):
        raise ValueError(f"unknown token kind {kind}")
    if kind == ApiToken.BOT and not bot_id:
        raise ValueError("a bot token needs the bot id")
    if expires_days is not None and expires_days < 1:
        raise ValueError("a token expires after 1 day at the earliest (no expiry: leave it out)")
    raw = f"{kind}_{secrets.token_urlsafe(30)[:40]}"
    expires_at = timezone.now() + dt.timedelta(days=expires_days) if expires_days is not None else None
    token = ApiToken.objects.create(kind=kind, name=name, user=user, bot_id=bot_id, prefix=raw[:12],
                                    token_hash=hash_token(raw), expires_at=expires_at)
    return token, raw


def revoke_tokens(prefix: str) -> int:
    return ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_bot_tokens(bot_id: str, *, name: str) -> int:
    """Revoke the live bot tokens of ``bot_id`` issued under ``name`` (e.g. the simulator's own)."""
    return ApiToken.objects.filter(kind=ApiToken.BOT, bot_id=bot_id, name=name, revoked_at__isnull=True).update(
        revoked_at=timezone.now())


_User = get_user_model()
_TOKEN_BY_HASH = (
    "SELECT t.id, t.kind, t.name, t.bot_id, t.user_id, t.expires_at, t.revoked_at, t.last_used_at,"
    " u.username, u.is_active, u.is_staff, u.is_superuser,"
    f" ARRAY(SELECT g.name FROM {_User.groups.through._meta.db_table} ug"
    f" JOIN {Group._meta.db_table} g ON g.id = ug.group_id WHERE ug.user_id = t.user_id)"
    f" FROM {ApiToken._meta.db_table} t LEFT JOIN {_User._meta.db_table} u ON u.id = t.user_id"
    " WHERE t.token_hash = %s"
)
_LAST_USED_AT = 7


def _token_by_hash(token_hash: str) -> ApiToken | None:
    """One indexed read on every API request, kept off the ORM and prepared once per connection
    (``rows.fetch``): the token, its staff user and the user's roles (cached on the user for
    the permission checks). In a web worker the row comes from ``token_cache`` while it holds it."""
    row = token_cache.cache.get(token_hash)
    if row is None:
        generation = token_cache.cache.generation
        found = rows.fetch(_TOKEN_BY_HASH, [token_hash])
        if not found:
            return None
        [row] = found
        token_cache.cache.put(token_hash, row, generation)
    (pk, kind, name, bot_id, user_id, expires_at, revoked_at, last_used_at,
     username, is_active, is_staff, is_superuser, groups) = row
    token = ApiToken(id=pk, kind=kind, name=name, bot_id=bot_id, user_id=user_id, token_hash=token_hash,
                     expires_at=expires_at, revoked_at=revoked_at, last_used_at=last_used_at)
    if user_id is not None:
        loaded = {"id": user_id, "username": username, "is_active": is_active, "is_staff": is_staff,
                  "is_superuser": is_superuser}
        names = [f.attname for f in _User._meta.concrete_fields if f.attname in loaded]
        user = _User.from_db(connection.alias, names, [loaded[name] for name in names])
        user._mallbots_roles = effective_roles(groups, superuser=is_superuser)
        token.user = user
    return token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``: one read (token, staff user and roles).

    Refuses (401 ``invalid token``) unknown, revoked and expired tokens, staff tokens of inactive users
    and bot tokens that name no bot; records ``last_used_at`` at most once per ``LAST_USED_RESOLUTION``; sets the actor of the
    request's message context.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            raise exceptions.AuthenticationFailed("invalid token")
        try:
            raw = parts[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("invalid token")
        token = _token_by_hash(hash_token(raw))
        now = timezone.now()
        if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
            raise exceptions.AuthenticationFailed("invalid token")
        if token.kind == ApiToken.STAFF:
            if token.user_id is None or not token.user.is_active:
                raise exceptions.AuthenticationFailed("invalid token")
            principal = token.user
        elif token.kind == ApiToken.BOT:
            if not token.bot_id:
                raise exceptions.AuthenticationFailed("invalid token")
            principal = DevicePrincipal(kind=token.kind, name=token.bot_id)
        else:
            principal = DevicePrincipal(kind=token.kind, name=token.name)
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token_cache.cache.touch(token.token_hash, _LAST_USED_AT, now)
        context.set_actor(actor_of(principal))
        return principal, token

    def authenticate_header(self, request):
        return self.keyword


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """Django admin session (active staff users); unsafe methods need the CSRF token, else 403 ``permission
    denied`` (api.md §2.3; Django's reason goes to the log)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            context.set_actor(actor_of(result[0]))
        return result

    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as exc:
            logger.info("session request refused: %s", exc.detail)
            raise exceptions.PermissionDenied("permission denied") from exc
