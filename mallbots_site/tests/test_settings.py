"""Settings are declarations; entry points complete the environment (ADR 15)."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mallbots_site import bootstrap

ROOT = Path(__file__).resolve().parents[2]

IMPORT_SETTINGS = """
import json, os, psutil
from django.core.exceptions import ImproperlyConfigured
try:
    import mallbots_site.settings as settings
    outcome = "imported"
except ImproperlyConfigured as exc:
    outcome = f"ImproperlyConfigured: {exc}"
var_dir = os.environ["VAR_DIR"]
strays = [" ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"])
          if var_dir in " ".join(p.info["cmdline"] or [])]
print(json.dumps({"outcome": outcome, "children": len(psutil.Process().children(recursive=True)),
                  "strays": strays}))
"""


def import_settings_in_a_fresh_interpreter(var_dir: Path, **variables: str | None) -> dict:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DATABASE_URL", "NATS_URL", "DJANGO_SECRET_KEY", "ENVIRONMENT", "DJANGO_SETTINGS_MODULE")}
    environment.update({key: value for key, value in variables.items() if value is not None})
    environment["VAR_DIR"] = str(var_dir)
    result = subprocess.run([sys.executable, "-c", IMPORT_SETTINGS], cwd=ROOT,
                            env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_importing_the_settings_with_every_url_set_starts_nothing_and_writes_nothing(tmp_path):
    var_dir = tmp_path / "var"
    seen = import_settings_in_a_fresh_interpreter(
        var_dir, DATABASE_URL="postgres://u@127.0.0.1:1/x", NATS_URL="nats://127.0.0.1:1", DJANGO_SECRET_KEY="k")
    assert seen == {"outcome": "imported", "children": 0, "strays": []}
    assert not var_dir.exists()


def test_importing_the_settings_with_no_url_set_starts_no_embedded_server_and_writes_nothing(tmp_path):
    var_dir = tmp_path / "var"
    seen = import_settings_in_a_fresh_interpreter(var_dir, DJANGO_SECRET_KEY="k")
    assert seen["outcome"] == "imported" or "DATABASE_URL" in seen["outcome"]
    assert (seen["children"], seen["strays"]) == (0, [])
    assert not var_dir.exists()


def test_production_settings_refuse_to_load_without_a_secret_key(tmp_path):
    seen = import_settings_in_a_fresh_interpreter(
        tmp_path / "var", ENVIRONMENT="production", DJANGO_SECRET_KEY="",
        DATABASE_URL="postgres://u@127.0.0.1:1/x", NATS_URL="nats://127.0.0.1:1")
    assert seen["outcome"].startswith("ImproperlyConfigured: DJANGO_SECRET_KEY is unset")
    assert not (tmp_path / "var").exists()


def test_the_development_key_is_generated_once_and_readable_only_by_its_owner(tmp_path):
    key = bootstrap.development_secret_key(tmp_path / "var")
    assert len(key) > 40 and bootstrap.development_secret_key(tmp_path / "var") == key
    assert stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["secret_key"]


@pytest.mark.parametrize("environment, exported", [("development", True), ("production", False)])
def test_prepare_exports_a_development_key_but_never_makes_one_in_production(tmp_path, monkeypatch, environment,
                                                                               exported):
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ENVIRONMENT", environment)
    monkeypatch.delenv("DJANGO_SECRET_KEY")
    bootstrap.prepare()
    assert bool(os.environ.get("DJANGO_SECRET_KEY")) is exported
    assert (tmp_path / "var" / "secret_key").exists() is exported
