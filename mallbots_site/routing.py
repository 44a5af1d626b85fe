"""WebSocket routes (the order board lives in the search module)."""

from search.routing import websocket_urlpatterns

__all__ = ["websocket_urlpatterns"]
