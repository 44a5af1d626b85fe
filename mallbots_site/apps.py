from django.apps import AppConfig


class MallbotsSiteConfig(AppConfig):
    """The site composes the apps: settings, URLs, ASGI/WSGI, ``run_all`` and the demo and load commands."""

    name = "mallbots_site"
    verbose_name = "MallBots site"

    def ready(self) -> None:
        from mallbots_site import tracing

        tracing.configure()
