"""The suite's entry point (``-p mallbots_site.pytest_plugin`` in pytest.ini): ``bootstrap.prepare()`` before
pytest-django loads the settings, as ``manage.py`` does before a command.

The embedded servers and the development key live under ``VAR_DIR`` (``make test``: ``var/test``, NATS on
14222); the processes the tests start inherit the environment and attach.
"""

import pytest

from mallbots_site import bootstrap


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Runs before pytest-django's implementation of this hook, which imports the settings."""
    bootstrap.prepare()
