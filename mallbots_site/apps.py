from django.apps import AppConfig


class MallbotsSiteConfig(AppConfig):
    name = "mallbots_site"
    verbose_name = "Access"

    def ready(self):
        from mallbots_site import schema  # noqa: F401  (drf-spectacular extensions)
