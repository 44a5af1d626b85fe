"""ASGI entry point of the web tier (ADR 23): HTTP to the WSGI application on a thread pool, WebSockets to Channels.

``http`` scopes go to ``mallbots_site.wsgi.application`` through ``mallbots_site.wsgi_bridge.WSGIBridge`` and
its pool of ``WEB_THREADS`` threads (a2wsgi's responder for streamed bodies; ADR 27), so a request runs like
under gunicorn's gthread workers (one thread per request, a persistent database connection per thread, no
async/sync hops inside Django). ``websocket`` scopes go to
Channels with session authentication and the Origin checked against ``ALLOWED_HOSTS``. ``lifespan``
start-up starts the token cache's listener (``access.token_cache``, ADR 33); shutdown stops it and closes the
order board's NATS subscription (``search.board``).

The environment (``DATABASE_URL``, ``NATS_URL``, ``DJANGO_SECRET_KEY``) comes from the parent, ``run_all``
(whose ``manage.py`` prepared it) or the deployment: a server's workers must attach to one PostgreSQL and
NATS, not start their own, so nothing here calls ``bootstrap.prepare()`` (ADR 15).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mallbots_site.settings")

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from mallbots_site.wsgi import application as wsgi_application  # noqa: E402  (sets Django up)
from access import token_cache  # noqa: E402
from mallbots_site.routing import websocket_urlpatterns  # noqa: E402
from mallbots_site.wsgi_bridge import WSGIBridge  # noqa: E402
from search.board import stop_feed  # noqa: E402


async def lifespan(scope, receive, send) -> None:
    """At start-up the token cache's listener (``access.token_cache``; the board's feed starts with the first
    board socket); at shutdown both stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            token_cache.listener.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await token_cache.listener.stop()
            await stop_feed()
            await send({"type": "lifespan.shutdown.complete"})
            return


application = ProtocolTypeRouter({
    "http": WSGIBridge(wsgi_application, workers=settings.WEB_THREADS),
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    "lifespan": lifespan,
})
