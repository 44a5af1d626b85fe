"""Headless Chromium for browser tests (quality.md §4): Debian's ``chromium`` driven by Playwright.

Playwright's own browser download cannot work here, so it launches the system binary. Where there is
no Chromium the tests are skipped with the reason in the summary; under CI (``CI`` set) that is a
failure instead, because ``.ci/run`` installs Chromium first.

Playwright's synchronous API runs an event loop in the test's thread, and Django refuses ORM calls
from a thread with a running loop: prepare the data before ``chromium()`` opens and check it after.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from typing import Iterator

import pytest

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INSTALL_HINT = "apt-get install chromium (.ci/run does this)"


def chromium_path() -> str:
    """The Chromium binary, or skip (fail under CI) when the machine has none."""
    path = shutil.which(os.environ.get("CHROMIUM", "chromium"))
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests need Chromium in CI: {INSTALL_HINT}")
        pytest.skip(f"no Chromium on this machine, browser tests not run: {INSTALL_HINT}")
    return path


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium browser (``playwright.sync_api.Browser``) for the block."""
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
