"""Settings of the test suite (pytest.ini) and of the processes its tests start: the project's plus the
kernel's example app ``toyapp``."""

from mallbots_site.settings import *  # noqa: F401,F403
from mallbots_site.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "toyapp"]
