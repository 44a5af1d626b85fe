"""``manage.py seed_demo``: demo stores through the services, idempotent, with usable tokens."""

import io
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from eventstore.models import OutboxMessage
from stores import models

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_stores_once_and_prints_working_tokens(client):
    first = seed()
    assert models.Store.objects.count() == 3 and models.Product.objects.count() == 9
    assert OutboxMessage.objects.filter(name="storesapi.ProductAdded").count() == 9
    user = User.objects.get(username="demo-staff")
    assert user.is_staff and set(user.groups.values_list("name", flat=True)) == {
        "store_staff", "store_admin", "depot_staff", "depot_admin"}
    kiosk = re.search(r"kiosk token \(demo-kiosk\): (kiosk_\S+)", first).group(1)
    staff = re.search(r"staff token \(demo-staff\): (staff_\S+)", first).group(1)
    stores = client.get("/api/stores", HTTP_AUTHORIZATION=f"Bearer {kiosk}").json()["stores"]
    assert [s["name"] for s in stores] == ["Waldorf Books", "Corner Coffee", "Gadget Galaxy"]
    response = client.delete(f"/api/stores/{stores[0]['id']}/participating", HTTP_AUTHORIZATION=f"Bearer {staff}")
    assert response.status_code == 200

    second = seed()
    assert models.Store.objects.count() == 3 and "exists, skipped" in second and "password" not in second
