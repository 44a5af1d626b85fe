"""WebSocket consumers for staff pages (api.md §5, quality.md §3): Channels' session user, gated by role.

A consumer declares ``roles``; a connection is accepted, then closed at once with 4401 when nobody is
signed in (or the user is inactive) and with 4403 when the user has none of ``roles`` (a superuser has
every role). The close codes reach the browser only after the handshake, hence accept-then-close.
Subclasses do their work in ``admitted()``.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from access.principals import roles_of

UNAUTHENTICATED, FORBIDDEN = 4401, 4403


class StaffSocketConsumer(AsyncJsonWebsocketConsumer):
    roles: tuple[str, ...] = ()

    admitted_user = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=UNAUTHENTICATED)
            return
        if not (await database_sync_to_async(roles_of)(user) & set(self.roles)):
            await self.close(code=FORBIDDEN)
            return
        self.admitted_user = user
        await self.admitted()

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        """Messages of connections that were not admitted are dropped."""
        if self.admitted_user is not None:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)

    async def admitted(self) -> None:
        """The connection belongs to a user with one of ``roles``."""
