"""Request-reading conventions of api.md §1.2, shared by every module's explicit serializers.

Fields accept camelCase or snake_case keys (camelCase wins), treat ``null`` and missing as the zero
value, accept numeric strings, round money half-up to 2 places, and fail with the spec's type texts
(``<field> must be a string`` …; the exception handler prefixes the field path).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from rest_framework import exceptions, serializers

from eventstore import codec, schema

MONEY_LIMIT = Decimal("9999999999.99")
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


class BadRequest(exceptions.APIException):
    """A 400 with a fixed request-level text (e.g. ``the request body must be a JSON object``)."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


class _Field(serializers.Field):
    zero: object = ""
    type_error = "must be a string"

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def get_value(self, dictionary):
        for key in (self.field_name, snake(self.field_name)):
            value = dictionary.get(key) if hasattr(dictionary, "get") else None
            if value is not None:
                return value
        return self.zero_value()

    def zero_value(self):
        return self.zero

    def validate_empty_values(self, data):
        return False, data

    def fail_type(self):
        raise serializers.ValidationError(self.type_error, code="type")

    def to_representation(self, value):
        return value


class Text(_Field):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail_type()
        return data


class Money(_Field):
    type_error = "must be a number"

    def zero_value(self):
        return Decimal("0.00")

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float, Decimal, str)):
            self.fail_type()
        try:
            if isinstance(data, float) and not math.isfinite(data):
                self.fail_type()
            value = Decimal(repr(data) if isinstance(data, float) else str(data).strip())
        except InvalidOperation:
            self.fail_type()
        if not value.is_finite():
            self.fail_type()
        if abs(value) > MONEY_LIMIT:
            raise serializers.ValidationError("is out of range", code="range")
        return schema.money(value)


class Integer(_Field):
    type_error = "must be an integer"
    zero = 0

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail_type()
        if isinstance(data, int):
            value = data
        else:
            try:
                number = Decimal(repr(data) if isinstance(data, float) else str(data).strip())
            except (InvalidOperation, TypeError):
                self.fail_type()
            if not number.is_finite() or number != number.to_integral_value():
                self.fail_type()
            value = int(number)
        if not INT_MIN <= value <= INT_MAX:
            raise serializers.ValidationError("is out of range", code="range")
        return value


class Boolean(_Field):
    type_error = "must be a boolean"
    zero = False

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail_type()
        return data


class Timestamp(_Field):
    type_error = "must be an RFC 3339 timestamp"

    def zero_value(self):
        return None

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        return None if value == "" else value

    def run_validation(self, data=serializers.empty):
        return None if data is None else super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str) or "T" not in data.upper():
            self.fail_type()
        try:
            value = codec.parse_timestamp(data.upper())
        except ValueError:
            self.fail_type()
        if value.tzinfo is None:
            self.fail_type()
        return value


class TextList(_Field):
    type_error = "must be a list"

    def zero_value(self):
        return []

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail_type()
        errors = {index: ["must be a string"] for index, item in enumerate(data) if not isinstance(item, str)}
        if errors:
            raise serializers.ValidationError(errors)
        return list(data)


class ObjectList(_Field):
    """A list of objects, each read with ``child`` (a ``RequestSerializer`` class)."""

    type_error = "must be a list"

    def __init__(self, child: type[serializers.Serializer], **kwargs):
        self.child_class = child
        super().__init__(**kwargs)

    def zero_value(self):
        return []

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail_type()
        values, errors = [], {}
        for index, item in enumerate(data):
            child = self.child_class(data=item)
            if not isinstance(item, dict):
                errors[index] = ["must be an object"]
            elif not child.is_valid():
                errors[index] = child.errors
            else:
                values.append(child.validated_data)
        if errors:
            raise serializers.ValidationError(errors)
        return values


class Object(_Field):
    """A nested object read with ``child`` (a ``RequestSerializer`` class)."""

    type_error = "must be an object"

    def __init__(self, child: type[serializers.Serializer], **kwargs):
        self.child_class = child
        super().__init__(**kwargs)

    def zero_value(self):
        return {}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail_type()
        child = self.child_class(data=data)
        if not child.is_valid():
            raise serializers.ValidationError(child.errors)
        return child.validated_data


class RequestSerializer(serializers.Serializer):
    """Base for request bodies: the body must be a JSON object; an empty body is ``{}``."""

    def to_internal_value(self, data):
        if data is None or (hasattr(data, "__len__") and len(data) == 0 and not isinstance(data, list)):
            data = {}
        if not isinstance(data, dict):
            raise BadRequest("the request body must be a JSON object")
        return super().to_internal_value(data)


def read(serializer_class: type[RequestSerializer], request) -> dict:
    """Validate ``request.data`` with ``serializer_class``; raise the spec's 400 on type errors."""
    data = request.data
    if not isinstance(data, dict):
        if isinstance(data, list) or data not in ({}, None) and not hasattr(data, "dict"):
            raise BadRequest("the request body must be a JSON object")
        data = {}
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def money_field(**kwargs) -> serializers.DecimalField:
    """Response field: money as a JSON number."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False, **kwargs)

