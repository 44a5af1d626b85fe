"""Response bodies: the orjson renderer writes the bytes DRF's JSONRenderer wrote (the wire did not change)."""

from decimal import Decimal

from django.conf import settings
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework.renderers import JSONRenderer

BODY = {
    "products": [{"id": "0b7b1a52-6f61-4b52-9d56-6b0f5a1d2c3e", "name": "Crème brûlée ☕", "price": Decimal("9.99"),
                  "quantity": 5, "available": True, "assignedBotId": "", "items": []}],
    "total": Decimal("49.95"), "amount": Decimal("200.0"), "odd": Decimal("21.689999999999998"), "none": None,
}


def test_the_configured_renderer_is_orjson():
    assert settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] == ["drf_orjson_renderer.renderers.ORJSONRenderer"]


def test_bodies_with_money_render_to_the_same_bytes_as_drf_json():
    rendered = ORJSONRenderer().render(BODY)
    assert rendered == JSONRenderer().render(BODY)
    assert b'"price":9.99' in rendered and b'"amount":200.0' in rendered
