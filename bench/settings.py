"""Settings of the benchmarks and every server they start (except the end-to-end ``run_all``): the project's
plus the kernel's example app ``toyapp`` (the toy ``Counter``) and the hello view's URL."""

from mallbots_site.settings import *  # noqa: F401,F403
from mallbots_site.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "toyapp"]
ROOT_URLCONF = "bench.hello_urls"
