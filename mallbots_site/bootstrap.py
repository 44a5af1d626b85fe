"""What an entry point does before Django reads the settings: complete the environment on a bare machine.

``manage.py``, the test suite's plugin (``mallbots_site.pytest_plugin``) and ``python -m bench`` call
``prepare()``; the settings themselves only read the environment (ADR 15). ``prepare()``:

- reads ``.env`` beside ``manage.py`` for the variables the environment does not set;
- with ``DATABASE_URL`` / ``NATS_URL`` unset, starts or attaches to the embedded PostgreSQL and NATS under
  ``VAR_DIR`` and exports their URLs (``embedded.configure``);
- with ``DJANGO_SECRET_KEY`` unset outside production, exports the key kept in ``VAR_DIR/secret_key``,
  generating it on first use. In production the key must come from the environment, the same on
  every replica; the settings refuse to load without it.

Child processes inherit the environment, so they attach instead of starting servers or keys of their own.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Mapping

import environ

from mallbots_site import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_NATS_PORT = 4222


def var_dir(environment: Mapping[str, str]) -> Path:
    """``VAR_DIR`` (default ``./var`` beside ``manage.py``), absolute."""
    return Path(environment.get("VAR_DIR") or BASE_DIR / "var").resolve()


def prepare() -> None:
    """Fill ``os.environ`` as described in the module docstring; idempotent, starts nothing when it is complete."""
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    directory = var_dir(os.environ)
    embedded.configure(directory, int(os.environ.get("EMBEDDED_NATS_PORT") or DEFAULT_NATS_PORT))
    if not os.environ.get("DJANGO_SECRET_KEY") and os.environ.get("ENVIRONMENT") != "production":
        os.environ["DJANGO_SECRET_KEY"] = development_secret_key(directory)


def development_secret_key(directory: Path) -> str:
    """The key in ``directory/secret_key`` (mode 0600), created once; of two processes creating it, one key wins."""
    key_file = directory / "secret_key"
    if not key_file.exists():
        directory.mkdir(parents=True, exist_ok=True)
        draft = directory / f"secret_key.{os.getpid()}"
        draft.touch(mode=0o600)
        draft.write_text(secrets.token_urlsafe(50))
        try:
            os.link(draft, key_file)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return key_file.read_text().strip()
