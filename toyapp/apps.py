import importlib
import importlib.util

from django.apps import AppConfig


class ToyAppConfig(AppConfig):
    name = "toyapp"
    label = "toyapp"
    in_event_catalog = False

    def ready(self):
        for module in ("contracts", "domain", "handlers", "consumers", "saga"):
            if importlib.util.find_spec(f"{self.name}.{module}") is not None:
                importlib.import_module(f"{self.name}.{module}")
