"""The order board's WebSocket (architecture.md §10): ``/ws/board/`` for users with a depot role.

Placeholder until the board lands on the search read model: it admits depot roles (4401 anonymous,
4403 without a depot role) and answers the connection and each ``{"type": "resync"}`` with an empty
snapshot; no updates are sent yet.
"""

from __future__ import annotations

from access.principals import DEPOT_ADMIN, DEPOT_STAFF
from web.sockets import StaffSocketConsumer


class BoardConsumer(StaffSocketConsumer):
    roles = (DEPOT_STAFF, DEPOT_ADMIN)

    async def admitted(self) -> None:
        await self.send_snapshot()

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "resync":
            await self.send_snapshot()

    async def send_snapshot(self) -> None:
        await self.send_json({"type": "snapshot", "orders": []})
