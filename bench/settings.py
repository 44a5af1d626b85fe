"""Settings for the benchmark's web servers: the project's settings plus the hello view's URL."""

from mallbots_site.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.hello_urls"
