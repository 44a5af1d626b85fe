"""Create the four role groups with their model permissions (idempotent).

A role gets the model permissions of every installed app whose ``AppConfig.staff_roles`` names it
(architecture.md §13: store roles see stores, depot roles the depot's modules).
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from access.principals import ROLES


def role_apps() -> dict[str, list[str]]:
    """Each role and the labels of the apps that grant it their model permissions."""
    return {role: [config.label for config in apps.get_app_configs() if role in getattr(config, "staff_roles", ())]
            for role in ROLES}


class Command(BaseCommand):
    help = "Create the role groups store_staff, store_admin, depot_staff, depot_admin and their permissions."

    def handle(self, *args, **options):
        for role, labels in role_apps().items():
            group, _ = Group.objects.get_or_create(name=role)
            group.permissions.set(Permission.objects.filter(content_type__app_label__in=labels))
            self.stdout.write(f"role {role}: {group.permissions.count()} permissions")
