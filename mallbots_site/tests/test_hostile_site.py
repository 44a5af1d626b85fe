"""Issue 13, finding 8: the site's own abuse cases (public health endpoints, logged paths, tokens,
production settings)."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.models import ApiToken
from access.tokens import hash_token, issue_token
from mallbots_site import health

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(health, "_clock", fake)
    return fake


@pytest.mark.django_db
def test_readiness_opens_one_nats_connection_per_interval_not_per_hit(client, clock, monkeypatch):
    import nats

    real_connect, connects = nats.connect, []

    async def counting_connect(*args, **kwargs):
        connects.append(1)
        return await real_connect(*args, **kwargs)

    monkeypatch.setattr(nats, "connect", counting_connect)
    for _ in range(5):
        assert client.get("/readiness").json() == {"database": "ok", "nats": "ok"}
    assert len(connects) == 1
    clock.now += health.CACHE_SECONDS
    client.get("/readiness")
    assert len(connects) == 2


@pytest.mark.django_db
def test_metrics_run_their_counting_queries_once_per_interval(client, clock):
    with CaptureQueriesContext(connection) as first:
        assert b"mallbots_outbox_unpublished" in client.get("/metrics").content
    with CaptureQueriesContext(connection) as repeated:
        for _ in range(5):
            assert b"mallbots_outbox_unpublished" in client.get("/metrics").content
    assert len(first) >= 3 and len(repeated) == 0
    clock.now += health.CACHE_SECONDS
    with CaptureQueriesContext(connection) as later:
        client.get("/metrics")
    assert len(later) == len(first)


def test_a_newline_in_a_path_is_escaped_in_the_request_log_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="mallbots.request"):
        client.get("/api/x%0a2026-01-01 INFO mallbots.request forged%0d%00")
    [line] = [record.getMessage() for record in caplog.records if record.name == "mallbots.request"]
    assert "\n" not in line and "\r" not in line and "\x00" not in line
    assert "/api/x\\n2026-01-01 INFO mallbots.request forged\\r\\x00" in line


@pytest.mark.django_db
@pytest.mark.parametrize("days", ["0", "-3"])
def test_issue_token_expires_days_below_one_is_refused_not_never_expiring(days):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("issue_token", "kiosk", "--name", "desk", "--expires-days", days)
    with pytest.raises(ValueError):
        issue_token("kiosk", name="desk", expires_days=int(days))
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_issue_token_expires_days_one_expires():
    token, _ = issue_token("kiosk", name="desk", expires_days=1)
    assert token.expires_at is not None


@pytest.mark.django_db
def test_a_bot_token_that_names_no_bot_is_refused_and_never_acts_as_staff(client):
    """Bot checks test the token's kind, not whether a bot id is set: before, a bot token with an empty bot id
    passed the bot levels and the services treated its empty id as staff (any list, any bot)."""
    raw = "bot_" + "x" * 40
    ApiToken.objects.create(kind=ApiToken.BOT, bot_id="", prefix=raw[:12], token_hash=hash_token(raw))
    response = client.get("/api/depot/bots/anything", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert (response.status_code, response.json()["message"]) == (401, "invalid token")
    with pytest.raises(ValueError):
        issue_token("bot", bot_id="")


@pytest.mark.django_db
def test_the_depot_services_treat_an_empty_bot_id_as_a_bot_not_as_staff():
    from depot import services
    from depot.tests.conftest import given_bot
    from eventstore.errors import Forbidden

    bot_id = given_bot("bot-1")
    with pytest.raises(Forbidden):
        services.bot_offline(bot_id=bot_id, acting_bot_id="")


def test_password_validators_refuse_weak_passwords(settings):
    assert settings.AUTH_PASSWORD_VALIDATORS
    for weak in ("password", "12345678", "mallbots"):
        with pytest.raises(ValidationError):
            password_validation.validate_password(weak)
    password_validation.validate_password("correct horse battery staple 42")


def test_check_deploy_reports_only_what_the_readme_documents(tmp_path):
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DATABASE_URL", "NATS_URL", "DJANGO_SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    environment.update(ENVIRONMENT="production", DJANGO_SECRET_KEY="k" * 30 + "-Production-Secret-Key-7f3Qx9",
                       DATABASE_URL="postgres://u@127.0.0.1:1/x", NATS_URL="nats://127.0.0.1:1",
                       VAR_DIR=str(tmp_path / "var"))
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"], cwd=ROOT,
                            env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    reported = {line.split(")")[0].split("(")[1] for line in (result.stdout + result.stderr).splitlines()
                if line.startswith("?: (")}
    readme = (ROOT / "README.md").read_text()
    assert reported <= {"security.W004", "security.W008"}
    assert all(check in readme for check in reported)
