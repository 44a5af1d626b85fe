from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Web conventions"

    def ready(self):
        from web import schema  # noqa: F401  (drf-spectacular: the request field types)
