"""``NATS_SYNC_ALWAYS`` (quality.md §2, durability): the embedded nats-server fsyncs every JetStream write
before acking it when asked to; the server's own monitoring endpoint says which mode it runs in."""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest
from django.conf import settings

from eventstore.tests.processes import free_port, port_in_use, wait_until
from mallbots_site import embedded


def jetstream_config(tmp_path, *, sync_always: bool) -> dict:
    """Start the embedded server's command line (plus a monitoring port) and read its JetStream configuration."""
    port, monitor = free_port(settings.EMBEDDED_NATS_PORT + 460), free_port(settings.EMBEDDED_NATS_PORT + 480)
    (tmp_path / "nats").mkdir(parents=True)
    with open(tmp_path / "nats.log", "wb") as log:
        process = subprocess.Popen(embedded.nats_argv(tmp_path, port, sync_always=sync_always) + ["-m", str(monitor)],
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: port_in_use(monitor) or process.poll() is not None, 15, "the monitoring port")
        with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/varz", timeout=5) as answer:
            return json.load(answer)["jetstream"]["config"]
    finally:
        process.terminate()
        process.wait(10)


def test_with_nats_sync_always_the_embedded_server_syncs_every_write_and_by_default_every_two_minutes(tmp_path):
    synced = jetstream_config(tmp_path / "always", sync_always=True)
    default = jetstream_config(tmp_path / "default", sync_always=False)
    assert synced.get("sync_always") is True
    assert not default.get("sync_always") and default["sync_interval"] == 120 * 10**9
    assert "sync_interval: always" in (tmp_path / "always" / "nats.conf").read_text()


@pytest.mark.parametrize("value, expected", [("true", True), ("1", True), ("yes", True), ("", False),
                                             ("false", False), ("0", False)])
def test_bootstrap_passes_nats_sync_always_to_the_server_it_starts(monkeypatch, tmp_path, value, expected):
    started = {}
    monkeypatch.setattr(embedded, "ensure_nats", lambda var_dir, port, sync_always=False: started.update(
        sync_always=sync_always) or "nats://127.0.0.1:1")
    monkeypatch.setenv("DATABASE_URL", "postgres://unused")
    monkeypatch.delenv("NATS_URL", raising=False)
    monkeypatch.setenv("NATS_SYNC_ALWAYS", value)
    embedded.configure(tmp_path, 1)
    assert started == {"sync_always": expected}
