import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from mallbots_site import health
from mallbots_site.tests.faultreport import FaultReport

REPORT = pytest.StashKey[FaultReport]()


@pytest.fixture(autouse=True)
def fresh_health_results():
    """Each test probes readiness and metrics itself (a process caches them for ``health.CACHE_SECONDS``)."""
    health.forget()
    yield
    health.forget()


@pytest.fixture(scope="session")
def fault_report(pytestconfig) -> FaultReport:
    """The rows of the table printed at the end of ``make faults`` (``faultreport.py``)."""
    return pytestconfig.stash.setdefault(REPORT, FaultReport())



@pytest.fixture
def superuser_headers(db) -> dict[str, str]:
    """A superuser's token (passes every access level) for requests through the WSGI handler in the test's
    process; like Django's test client, the handler must not close the test's connection after each request."""
    from access.testing import token_for

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Bearer {token_for('superuser')}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def pytest_terminal_summary(terminalreporter, config):
    report = config.stash.get(REPORT, None)
    if report is None:
        return
    lines = report.lines()
    if not lines:
        return
    terminalreporter.section("fault suite (quality.md §2) and long fuzzing (§3)")
    for block in lines:
        terminalreporter.write_line(block)
        terminalreporter.write_line("")
    path = report.save()
    if path is not None:
        terminalreporter.write_line(f"figures written to {path}")
