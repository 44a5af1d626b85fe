from django.apps import AppConfig

from access.principals import DEPOT_ADMIN, DEPOT_STAFF


class SearchConfig(AppConfig):
    name = "search"
    staff_roles = (DEPOT_STAFF, DEPOT_ADMIN)  # their groups get this app's model permissions (setup_roles)
