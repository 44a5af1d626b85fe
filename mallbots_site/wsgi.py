"""WSGI entry point. The environment (``DATABASE_URL``, ``NATS_URL``, ``DJANGO_SECRET_KEY``) comes from the
parent, ``run_all`` (whose ``manage.py`` prepared it) or the deployment: a server's workers must attach to
one PostgreSQL and NATS, not start their own, so nothing here calls ``bootstrap.prepare()`` (ADR 15)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mallbots_site.settings")
application = get_wsgi_application()
