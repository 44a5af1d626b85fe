from django.apps import AppConfig


class MallbotsSiteConfig(AppConfig):
    name = "mallbots_site"
    verbose_name = "Access"
