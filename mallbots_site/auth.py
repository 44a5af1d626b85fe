"""Bearer tokens, staff sessions and the access levels of api.md §2.3.

Module apps use the permission classes here (the only part of ``mallbots_site`` they may import).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from eventstore import context
from mallbots_site.models import ApiToken

STORE_STAFF, STORE_ADMIN, DEPOT_STAFF, DEPOT_ADMIN = "store_staff", "store_admin", "depot_staff", "depot_admin"
ROLES = (STORE_STAFF, STORE_ADMIN, DEPOT_STAFF, DEPOT_ADMIN)
_IMPLIED = {STORE_ADMIN: {STORE_STAFF}, DEPOT_ADMIN: {DEPOT_STAFF}}
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(kind: str, *, name: str = "", user=None, bot_id: str = "",
                expires_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw text (shown once, never stored)."""
    if kind not in (ApiToken.KIOSK, ApiToken.STAFF, ApiToken.BOT):
        raise ValueError(f"unknown token kind {kind}")
    raw = f"{kind}_{secrets.token_urlsafe(30)[:40]}"
    expires_at = timezone.now() + dt.timedelta(days=expires_days) if expires_days else None
    token = ApiToken.objects.create(kind=kind, name=name, user=user, bot_id=bot_id, prefix=raw[:12],
                                    token_hash=hash_token(raw), expires_at=expires_at)
    return token, raw


def revoke_tokens(prefix: str) -> int:
    return ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).update(revoked_at=timezone.now())


@dataclass
class DevicePrincipal:
    """``request.user`` for kiosk and bot tokens: authenticated, not a Django user."""

    kind: str
    name: str
    is_authenticated: bool = True
    is_active: bool = True
    is_superuser: bool = False
    is_staff: bool = False

    def get_username(self) -> str:
        return f"{self.kind}:{self.name}"


def roles_of(user) -> frozenset[str]:
    """The effective roles of a Django user (superuser: all), cached on the user object."""
    if user is None or not getattr(user, "is_authenticated", False) or isinstance(user, DevicePrincipal):
        return frozenset()
    cached = getattr(user, "_mallbots_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(ROLES)
        else:
            names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
            for name in list(names):
                names |= _IMPLIED.get(name, set())
            cached = frozenset(names)
        user._mallbots_roles = cached
    return cached


def actor_of(user) -> str:
    if isinstance(user, DevicePrincipal):
        return f"{user.kind}:{user.name}"
    return f"staff:{user.get_username()}"


_TOKEN_BY_HASH = (
    "SELECT id, kind, name, bot_id, user_id, expires_at, revoked_at, last_used_at"
    f" FROM {ApiToken._meta.db_table} WHERE token_hash = %s"
)


def _token_by_hash(token_hash: str) -> ApiToken | None:
    """One indexed read on every API request, kept off the ORM's query compiler (no related rows)."""
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_BY_HASH, [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, kind, name, bot_id, user_id, expires_at, revoked_at, last_used_at = row
    return ApiToken(id=pk, kind=kind, name=name, bot_id=bot_id, user_id=user_id, token_hash=token_hash,
                    expires_at=expires_at, revoked_at=revoked_at, last_used_at=last_used_at)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``: one read for kiosk and bot tokens, a second for a staff token's user.

    Refuses (401 ``invalid token``) unknown, revoked and expired tokens and staff tokens of inactive
    users; records ``last_used_at`` at most once per ``LAST_USED_RESOLUTION``.
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
        else:
            principal = DevicePrincipal(kind=token.kind, name=token.bot_id if token.kind == ApiToken.BOT else token.name)
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        context.set_actor(actor_of(principal))
        return principal, token

    def authenticate_header(self, request):
        return self.keyword


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """Django admin session (active staff users); unsafe methods need the CSRF token."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            context.set_actor(actor_of(result[0]))
        return result


def is_bot(request) -> bool:
    return isinstance(request.user, DevicePrincipal) and request.user.kind == ApiToken.BOT


def bot_id_of(request) -> str:
    return request.user.name if is_bot(request) else ""


def is_kiosk(request) -> bool:
    return isinstance(request.user, DevicePrincipal) and request.user.kind == ApiToken.KIOSK


class _RoleLevel(permissions.BasePermission):
    message = "permission denied"
    roles: frozenset[str] = frozenset()

    def has_permission(self, request, view):
        user = request.user
        if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
            return False
        return bool(roles_of(user) & self.roles)


class Kiosk(_RoleLevel):
    """A kiosk token, or any active staff user with at least one role."""

    roles = frozenset(ROLES)

    def has_permission(self, request, view):
        return is_kiosk(request) or super().has_permission(request, view)


class StoreStaff(_RoleLevel):
    roles = frozenset({STORE_STAFF, STORE_ADMIN})


class StoreAdmin(_RoleLevel):
    roles = frozenset({STORE_ADMIN})


class DepotStaff(_RoleLevel):
    roles = frozenset({DEPOT_STAFF, DEPOT_ADMIN})


class DepotAdmin(_RoleLevel):
    roles = frozenset({DEPOT_ADMIN})


class BotOrDepotStaff(DepotStaff):
    """A bot token (object check in the view, after the 404) or DepotStaff."""

    def has_permission(self, request, view):
        return is_bot(request) or super().has_permission(request, view)


class BotOrDepotAdmin(DepotAdmin):
    def has_permission(self, request, view):
        return is_bot(request) or super().has_permission(request, view)


class Public(permissions.AllowAny):
    pass


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))
