"""ASGI entry point. The environment (``DATABASE_URL``, ``NATS_URL``, ``DJANGO_SECRET_KEY``) comes from the
parent, ``run_all`` (whose ``manage.py`` prepared it) or the deployment: a server's workers must attach to
one PostgreSQL and NATS, not start their own, so nothing here calls ``bootstrap.prepare()`` (ADR 15)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mallbots_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from mallbots_site.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
})
