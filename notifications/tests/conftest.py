"""The webhook SMS gateway fixture: a real HTTP server, with the settings pointing at it."""

import pytest

from notifications.tests.webhook import WebhookServer


@pytest.fixture
def webhook(settings):
    server = WebhookServer().start()
    settings.SMS_BACKEND = "webhook"
    settings.SMS_WEBHOOK_URL = server.url
    try:
        yield server
    finally:
        server.stop()
