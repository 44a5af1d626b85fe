"""WebSocket routes of the search module: the order board (architecture.md §10)."""

from django.urls import path

from search.consumers import BoardConsumer

websocket_urlpatterns = [path("ws/board/", BoardConsumer.as_asgi())]
