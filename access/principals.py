"""Who is calling: staff users with their roles (api.md §2.2), kiosk and bot devices, the actor of a change."""

from __future__ import annotations

from dataclasses import dataclass

from eventstore import context

STORE_STAFF, STORE_ADMIN, DEPOT_STAFF, DEPOT_ADMIN = "store_staff", "store_admin", "depot_staff", "depot_admin"
ROLES = (STORE_STAFF, STORE_ADMIN, DEPOT_STAFF, DEPOT_ADMIN)
_IMPLIED = {STORE_ADMIN: {STORE_STAFF}, DEPOT_ADMIN: {DEPOT_STAFF}}
KIOSK, STAFF, BOT = "kiosk", "staff", "bot"


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


def effective_roles(group_names, *, superuser: bool) -> frozenset[str]:
    """The roles named by ``group_names`` plus the roles they imply; a superuser has every role."""
    if superuser:
        return frozenset(ROLES)
    names = {name for name in group_names if name in ROLES}
    for name in list(names):
        names |= _IMPLIED.get(name, set())
    return frozenset(names)


def roles_of(user) -> frozenset[str]:
    """The effective roles of a Django user (superuser: all), cached on the user object."""
    if user is None or not getattr(user, "is_authenticated", False) or isinstance(user, DevicePrincipal):
        return frozenset()
    cached = getattr(user, "_mallbots_roles", None)
    if cached is None:
        names = () if user.is_superuser else user.groups.filter(name__in=ROLES).values_list("name", flat=True)
        cached = user._mallbots_roles = effective_roles(names, superuser=user.is_superuser)
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def actor_of(user) -> str:
    """The ``actor`` metadata of the events a caller causes: ``kiosk:<name>``, ``bot:<id>``, ``staff:<username>``."""
    if isinstance(user, DevicePrincipal):
        return f"{user.kind}:{user.name}"
    return f"staff:{user.get_username()}"


def acting_as(user):
    """The message context for changes a signed-in staff user makes (the admin)."""
    return context.use(context.current().with_actor(actor_of(user)))


def is_bot(request) -> bool:
    return isinstance(request.user, DevicePrincipal) and request.user.kind == BOT


def bot_id_of(request) -> str | None:
    """The bot of a bot token; ``None`` for every other caller (never ``""``: "is a bot" is the token's kind,
    not whether an id is set)."""
    return request.user.name if is_bot(request) else None


def is_kiosk(request) -> bool:
    return isinstance(request.user, DevicePrincipal) and request.user.kind == KIOSK
