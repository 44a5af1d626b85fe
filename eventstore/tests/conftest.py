"""Fixtures for tests with real relay/consumer processes (see ``processes.py``)."""

import pytest
from django.conf import settings
from django.core.management import call_command

from eventstore.tests import processes


@pytest.fixture
def fresh_stream() -> str:
    """The stream ``NATS_STREAM`` on the session's NATS, deleted and created again (empty) by ``ensure_stream``."""
    processes.delete_stream(settings.NATS_URL, settings.NATS_STREAM)
    call_command("ensure_stream")
    return settings.NATS_STREAM


@pytest.fixture
def dedicated_nats(tmp_path):
    """A nats-server of this test only (own port and store) that the test can ``stop()`` and ``start()``."""
    server = processes.NatsServer(port=processes.free_port(settings.EMBEDDED_NATS_PORT + 90),
                                  store_dir=tmp_path / "nats-store", log_path=tmp_path / "nats-server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
