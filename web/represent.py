"""Response bodies from the response serializers, without building a serializer per response (ADR 27).

A DRF serializer deep-copies its declared fields every time one is instantiated, and a nested
``many=True`` serializer does it again; for a small body that is most of the cost of writing it.
``representer(SerializerClass)`` binds the serializer's fields once and returns a function that gives,
for an instance, what ``SerializerClass(instance).data`` gives: the same fields in the same order, each
read with the field's own ``get_attribute`` and written with its own ``to_representation`` (nested
serializers and ``many=True`` lists recursively, ``None`` stays ``None``). The serializer class stays the
single description of the body, for the schema and for this function.
"""

from __future__ import annotations

from typing import Any, Callable

from django.db.models.manager import BaseManager
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

Represent = Callable[[Any], dict]


def _list_of(child: Represent) -> Callable[[Any], list]:
    def represent(data: Any) -> list:
        iterable = data.all() if isinstance(data, BaseManager) else data
        return [child(item) for item in iterable]

    return represent


def _compile(serializer: serializers.Serializer) -> Represent:
    parts = []
    for field in serializer._readable_fields:
        if isinstance(field, serializers.ListSerializer):
            if not isinstance(field.child, serializers.Serializer):
                raise TypeError(f"{field.field_name}: only lists of serializers are supported")
            convert = _list_of(_compile(field.child))
        elif isinstance(field, serializers.Serializer):
            convert = _compile(field)
        else:
            convert = field.to_representation
        parts.append((field.field_name, field.get_attribute, convert))

    def represent(instance: Any) -> dict:
        body = {}
        for name, get_attribute, convert in parts:
            try:
                attribute = get_attribute(instance)
            except SkipField:
                continue
            check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            body[name] = None if check is None else convert(attribute)
        return body

    return represent


def representer(serializer_class: type[serializers.Serializer]) -> Represent:
    """``instance -> serializer_class(instance).data`` as a plain dict, fields bound once (see module doc)."""
    return _compile(serializer_class())
