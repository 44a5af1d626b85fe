"""Request-reading conventions of api.md §1.2, shared by every module's explicit serializers.

Fields accept camelCase or snake_case keys (camelCase wins), treat ``null`` and missing as the zero
value, accept numeric strings, round money half-up to 2 places, and fail with the spec's type texts
(``<field> must be a string`` …; the exception handler prefixes the field path).

Every field is bounded (ADR 20): a number's magnitude is checked from its exponent before any
conversion (``is out of range``), a text has a maximum length (``is too long``) and may not hold a
NUL or an unpaired surrogate (``contains an invalid character``), a list has a maximum number of
items (``has too many items``). ``LookupId`` fields are the exception: the server looks them up, and
a malformed id is the lookup's 404 (api.md §1.3).
"""

from __future__ import annotations

import math
import re
from datetime import timezone as dt_timezone
from decimal import MAX_EMAX, Decimal, InvalidOperation

from rest_framework import exceptions, serializers

from eventstore import codec, schema

MONEY_LIMIT = schema.MONEY_MAX
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
TEXT_MAX_LENGTH = 1000
NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
ID_MAX_LENGTH = 64
TIMESTAMP_MAX_LENGTH = 64
LIST_MAX_ITEMS = schema.LINES_MAX
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_HUGE_EXPONENT = re.compile(r"\s*([+-]?)(?:\d+\.?\d*|\.\d+)[eE]\+?\d+\s*")


def to_decimal(text: str) -> Decimal:
    """``Decimal(text)``, except that a number whose exponent is beyond what ``Decimal`` can hold becomes
    ±1E+MAX_EMAX (still far out of any range) instead of an error; other bad text raises
    ``InvalidOperation``."""
    try:
        return Decimal(text)
    except InvalidOperation:
        match = _HUGE_EXPONENT.fullmatch(text)
        if match is None:
            raise
        return Decimal(f"{match.group(1)}1E+{MAX_EMAX}")


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

    def decimal(self, data) -> Decimal:
        """A finite ``Decimal`` of a JSON number or numeric string, without arithmetic (``Decimal`` keeps
        the exponent apart, so ``1e1000000`` costs nothing until something converts it). The digit-group
        underscores that ``Decimal`` takes from Python's syntax (``"1_000"``) are no number."""
        if isinstance(data, bool) or not isinstance(data, (int, float, Decimal, str)):
            self.fail_type()
        if isinstance(data, str) and "_" in data:
            self.fail_type()
        if isinstance(data, float) and not math.isfinite(data):
            self.fail_type()
        try:
            value = (Decimal(data) if isinstance(data, (int, Decimal)) else
                     to_decimal(repr(data) if isinstance(data, float) else data.strip()))
        except InvalidOperation:
            self.fail_type()
        if not value.is_finite():
            self.fail_type()
        return value

    def to_representation(self, value):
        return value


def fail_range():
    raise serializers.ValidationError("is out of range", code="range")


def check_text(value: str, max_length: int | None) -> str:
    """``value`` if it fits ``max_length`` characters and PostgreSQL can store it (no NUL, no unpaired
    surrogate); else the spec-style 400 texts ``is too long`` / ``contains an invalid character``."""
    if max_length is not None and len(value) > max_length:
        raise serializers.ValidationError("is too long", code="length")
    if "\x00" in value or not value.isascii() and not _encodable(value):
        raise serializers.ValidationError("contains an invalid character", code="character")
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Text(_Field):
    """A JSON string of at most ``max_length`` characters (``TEXT_MAX_LENGTH`` unless given)."""

    def __init__(self, max_length: int = TEXT_MAX_LENGTH, **kwargs):
        self.max_length = max_length
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail_type()
        return check_text(data, self.max_length)


class Id(Text):
    """An id the server stores without looking it up (e.g. a customer id at basket start): at most
    ``ID_MAX_LENGTH`` characters."""

    def __init__(self, **kwargs):
        super().__init__(max_length=ID_MAX_LENGTH, **kwargs)


class LookupId(_Field):
    """An id the server looks up: any string; a malformed one (``eventstore.ids.is_valid_id``) is the
    lookup's 404, as api.md §1.3 says, so it is neither length- nor character-checked here (the request
    body's size bounds it)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail_type()
        return data


class Money(_Field):
    type_error = "must be a number"

    def zero_value(self):
        return Decimal("0.00")

    def to_internal_value(self, data):
        value = self.decimal(data)
        if not value.is_zero() and value.adjusted() > MONEY_LIMIT.adjusted():
            fail_range()
        value = schema.money(value)
        if abs(value) > MONEY_LIMIT:
            fail_range()
        return value


class Integer(_Field):
    type_error = "must be an integer"
    zero = 0

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            value = data
        else:
            number = self.decimal(data)
            if not number.is_zero() and number.adjusted() >= len(str(INT_MAX)):
                fail_range()
            if number != number.to_integral_value():
                self.fail_type()
            value = int(number)
        if not INT_MIN <= value <= INT_MAX:
            fail_range()
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
        if not isinstance(data, str) or len(data) > TIMESTAMP_MAX_LENGTH or "T" not in data.upper():
            self.fail_type()
        try:
            value = codec.parse_timestamp(data.upper())
        except ValueError:
            self.fail_type()
        if value.tzinfo is None:
            self.fail_type()
        try:
            return value.astimezone(dt_timezone.utc)
        except OverflowError:
            fail_range()


def check_items(data: list, max_items: int) -> list:
    if len(data) > max_items:
        raise serializers.ValidationError("has too many items", code="length")
    return data


class TextList(_Field):
    """A list of at most ``max_items`` strings of at most ``max_length`` characters each."""

    type_error = "must be a list"

    def __init__(self, max_items: int = LIST_MAX_ITEMS, max_length: int = TEXT_MAX_LENGTH, **kwargs):
        self.max_items, self.max_length = max_items, max_length
        super().__init__(**kwargs)

    def zero_value(self):
        return []

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail_type()
        check_items(data, self.max_items)
        errors = {}
        for index, item in enumerate(data):
            if not isinstance(item, str):
                errors[index] = ["must be a string"]
                continue
            try:
                check_text(item, self.max_length)
            except serializers.ValidationError as refused:
                errors[index] = refused.detail
        if errors:
            raise serializers.ValidationError(errors)
        return list(data)


class ObjectList(_Field):
    """A list of at most ``max_items`` objects, each read with ``child`` (a ``RequestSerializer`` class)."""

    type_error = "must be a list"

    def __init__(self, child: type[serializers.Serializer], max_items: int = LIST_MAX_ITEMS, **kwargs):
        self.child_class = child
        self.max_items = max_items
        super().__init__(**kwargs)

    def zero_value(self):
        return []

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail_type()
        check_items(data, self.max_items)
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


class EmptyIn(RequestSerializer):
    """The body of an operation that takes none but ``{}``: still parsed, so malformed JSON is a 400."""


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

