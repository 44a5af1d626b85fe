"""Create the four role groups with their model permissions (idempotent)."""

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from mallbots_site.auth import DEPOT_ADMIN, DEPOT_STAFF, STORE_ADMIN, STORE_STAFF

STORE_APPS = ("stores",)
DEPOT_APPS = ("ordering", "depot", "payments", "customers", "search", "notifications", "baskets")
ROLE_APPS = {STORE_STAFF: STORE_APPS, STORE_ADMIN: STORE_APPS, DEPOT_STAFF: DEPOT_APPS, DEPOT_ADMIN: DEPOT_APPS}


class Command(BaseCommand):
    help = "Create the role groups store_staff, store_admin, depot_staff, depot_admin and their permissions."

    def handle(self, *args, **options):
        for role, apps in ROLE_APPS.items():
            group, _ = Group.objects.get_or_create(name=role)
            group.permissions.set(Permission.objects.filter(content_type__app_label__in=apps))
            self.stdout.write(f"role {role}: {group.permissions.count()} permissions")
