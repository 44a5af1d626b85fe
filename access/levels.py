"""The access levels of api.md §2.3, one DRF permission class each; a refusal is 403 ``permission denied``."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from rest_framework import permissions

from access.principals import DEPOT_ADMIN, DEPOT_STAFF, ROLES, STORE_ADMIN, STORE_STAFF, is_bot, is_kiosk, roles_of


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
