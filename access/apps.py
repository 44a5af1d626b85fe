from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Access"

    def ready(self):
        from access import schema  # noqa: F401  (drf-spectacular: the two authentication schemes)
