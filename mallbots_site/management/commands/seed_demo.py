"""Demo data for a fresh installation: stores and catalogs, a staff user in every role, and tokens.

Stores and products are created through ``stores.services`` (events, projections and outbox rows as for
any other write). Stores whose demo name already exists are skipped, so running it again only issues
new tokens. The raw tokens (and a new user's password) are printed once and never stored.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from access.principals import ROLES
from access.tokens import issue_token
from eventstore import context
from stores import public as stores_public
from stores import services as stores_services

STAFF_USERNAME = "demo-staff"
KIOSK_NAME = "demo-kiosk"

DEMO_STORES = [
    ("Waldorf Books", "Level 1, north wing", [
        ("The Left Hand of Darkness", "Ursula K. Le Guin, paperback", "BK-0001", "12.99"),
        ("Dune", "Frank Herbert, paperback", "BK-0002", "10.49"),
        ("A Pattern Language", "Christopher Alexander, hardcover", "BK-0003", "64.00"),
    ]),
    ("Corner Coffee", "Level 0, food court", [
        ("House blend, 250 g", "Whole beans, medium roast", "CF-0001", "8.50"),
        ("Espresso cups (2)", "Porcelain, 80 ml", "CF-0002", "14.00"),
        ("Cold brew bottle", "1 litre, ready to drink", "CF-0003", "5.25"),
    ]),
    ("Gadget Galaxy", "Level 2, east wing", [
        ("USB-C cable", "2 m, braided", "GG-0001", "9.99"),
        ("Wireless earbuds", "Noise cancelling", "GG-0002", "79.00"),
        ("Power bank", "10,000 mAh", "GG-0003", "29.95"),
    ]),
]


class Command(BaseCommand):
    help = "Create demo stores and products, the staff user demo-staff in every role, and print tokens."

    def handle(self, *args, **options):
        call_command("setup_roles", verbosity=0)
        existing = {store.name for store in stores_public.list_stores()}
        with context.use(context.new_context(actor="system")):
            for name, location, products in DEMO_STORES:
                if name in existing:
                    self.stdout.write(f"store {name}: exists, skipped")
                    continue
                store_id = stores_services.create_store(name=name, location=location)
                for product_name, description, sku, price in products:
                    stores_services.add_product(store_id=store_id, name=product_name, description=description,
                                                sku=sku, price=Decimal(price))
                self.stdout.write(f"store {name}: created with {len(products)} products ({store_id})")
        user = self.staff_user()
        _, kiosk = issue_token("kiosk", name=KIOSK_NAME)
        _, staff = issue_token("staff", user=user)
        self.stdout.write(f"kiosk token ({KIOSK_NAME}): {kiosk}")
        self.stdout.write(f"staff token ({STAFF_USERNAME}): {staff}")

    def staff_user(self):
        users = get_user_model()
        user = users.objects.filter(username=STAFF_USERNAME).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = users.objects.create_user(STAFF_USERNAME, password=password, is_staff=True)
            self.stdout.write(f"user {STAFF_USERNAME}: created, password {password}")
        user.groups.add(*Group.objects.filter(name__in=ROLES))
        return user
