"""In a real browser against the web tier as ``run_all`` serves it: sign in to the admin and follow an
order's links to its shopping list and back (architecture.md §13)."""

from __future__ import annotations

import pytest

from access.testing import make_user
from mallbots_site.tests.browser import chromium, chromium_path
from mallbots_site.tests.orders import given_ready_order
from mallbots_site.tests.webtier import web_tier

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.subprocess]


def test_depot_staff_follows_an_order_to_its_shopping_list_and_back(tmp_path):
    chromium_path()
    order = given_ready_order(customer="Ann Lee", bot="Robo One")
    user = make_user("desk", "depot_staff")
    user.set_password("desk-password")
    user.save()

    with web_tier(tmp_path / "web.log") as base, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base}/admin/login/?next=/admin/ordering/order/")
        page.fill("#id_username", "desk")
        page.fill("#id_password", "desk-password")
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/ordering/order/")
        assert page.title() == "Select order to view | MallBots admin"
        assert "Ann Lee" in page.inner_text("#result_list")

        page.click(f"#result_list a[href='/admin/ordering/order/{order.order_id}/change/']")
        page.wait_for_url(f"{base}/admin/ordering/order/{order.order_id}/change/")
        assert "Robo One" in page.inner_text(".field-bot_link")
        page.screenshot(path=tmp_path / "order.png", full_page=True)

        page.click(".field-shopping_list_link a")
        page.wait_for_url(f"{base}/admin/depot/shoppinglist/{order.shopping_id}/change/")
        assert page.inner_text("h1") == "View shopping list"
        assert "depot.ShoppingListCompleted" in page.inner_text(".event-history")

        page.click(".field-order_link a")
        page.wait_for_url(f"{base}/admin/ordering/order/{order.order_id}/change/")
        assert page.inner_text("h1") == "View order"
