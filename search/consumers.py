"""The order board's WebSocket (architecture.md §10): ``/ws/board/`` for users with a depot role.

Anonymous users are closed with 4401, users without a depot role with 4403 (``web.sockets``). An admitted
socket joins the channel-layer group ``board``, starts the process's feed if it is the first one
(``search.board``), and gets ``{"type": "snapshot", "orders": [BoardOrder]}``; again on each
``{"type": "resync"}``. Then each order event arrives as ``{"type": "update", "event", "order"}``, and a
snapshot after the feed lost NATS for a while.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from access.principals import DEPOT_ADMIN, DEPOT_STAFF
from search import board
from web.sockets import StaffSocketConsumer


class BoardConsumer(StaffSocketConsumer):
    roles = (DEPOT_STAFF, DEPOT_ADMIN)

    joined = False

    async def admitted(self) -> None:
        """Join first, then read the snapshot: an event between the two arrives after it (and is at most
        applied twice, which the client tolerates), none is lost. Waits for the feed's subscription so that
        the first socket of a process does not miss events published while it connects."""
        await self.channel_layer.group_add(board.GROUP, self.channel_name)
        self.joined = True
        await board.feed().wait_settled()
        await self.send_snapshot()

    @classmethod
    async def decode_json(cls, text_data):
        """Anything but JSON is ignored like an unknown message."""
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "resync":
            await self.send_snapshot()

    async def send_snapshot(self) -> None:
        await self.send(text_data=await database_sync_to_async(board.snapshot_text)())

    async def board_send(self, message: dict) -> None:
        """A text the feed sent to the group (``board.SEND``)."""
        await self.send(text_data=message["text"])

    async def disconnect(self, code) -> None:
        if self.joined:
            await self.channel_layer.group_discard(board.GROUP, self.channel_name)
            self.joined = False
