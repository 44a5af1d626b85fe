from django.apps import AppConfig


class DepotConfig(AppConfig):
    name = "depot"
