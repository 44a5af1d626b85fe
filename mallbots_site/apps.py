import gc

from django.apps import AppConfig
from django.conf import settings


class MallbotsSiteConfig(AppConfig):
    """The site composes the apps: settings, URLs, ASGI/WSGI, ``run_all`` and the demo and load commands."""

    name = "mallbots_site"
    verbose_name = "MallBots site"

    def ready(self) -> None:
        from mallbots_site import tracing
        from mallbots_site.logging import skip_unused_record_fields

        tracing.configure()
        skip_unused_record_fields()
        tune_garbage_collector(settings.GC_THRESHOLD)


def tune_garbage_collector(threshold: int) -> None:
    """Leave what start-up built out of every later collection (``gc.freeze``) and collect the youngest
    generation after ``threshold`` allocations instead of Python's 700 (ADR 28); 0 keeps Python's defaults."""
    if threshold > 0:
        gc.freeze()
        gc.set_threshold(threshold, *gc.get_threshold()[1:])
