"""``web.represent``: the body a representer gives is the body its serializer gives."""

from decimal import Decimal
from types import SimpleNamespace

from rest_framework import serializers

from web import rest
from web.represent import representer


class LineOut(serializers.Serializer):
    productId = serializers.CharField(source="product_id")
    price = rest.money_field()
    quantity = serializers.IntegerField()


class ThingOut(serializers.Serializer):
    id = serializers.CharField()
    lines = LineOut(many=True)
    first = LineOut(source="first_line")
    note = serializers.CharField(source="maybe")
    total = rest.money_field()


class Wrapper(serializers.Serializer):
    thing = ThingOut()


def test_given_objects_and_dicts_when_represented_then_equal_to_the_serializer_data():
    lines = [{"product_id": "p1", "price": Decimal("2.5"), "quantity": 3},
             SimpleNamespace(product_id="p2", price=Decimal("0.10"), quantity=1)]
    thing = SimpleNamespace(id="t1", lines=lines, first_line=lines[0], maybe=None, total=Decimal("7.6"))
    body = representer(Wrapper)({"thing": thing})
    assert body == Wrapper({"thing": thing}).data
    assert list(body["thing"]) == ["id", "lines", "first", "note", "total"]
    assert body["thing"]["note"] is None and body["thing"]["total"] == Decimal("7.60")
    assert body["thing"]["lines"][1] == {"productId": "p2", "price": Decimal("0.10"), "quantity": 1}


def test_given_many_instances_when_represented_twice_then_fields_are_not_shared_state():
    represent = representer(LineOut)
    one = represent({"product_id": "a", "price": Decimal("1"), "quantity": 1})
    two = represent({"product_id": "b", "price": Decimal("2"), "quantity": 2})
    assert (one["productId"], two["productId"], two["price"]) == ("a", "b", Decimal("2.00"))
