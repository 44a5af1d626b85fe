import pytest

from mallbots_site import health


@pytest.fixture(autouse=True)
def fresh_health_results():
    """Each test probes readiness and metrics itself (a process caches them for ``health.CACHE_SECONDS``)."""
    health.forget()
    yield
    health.forget()
