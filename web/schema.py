"""drf-spectacular extensions: the OpenAPI types of the request fields in ``web.rest``, with their bounds
(maximum lengths, item counts, the money and 32-bit ranges), so generated requests reach the edges."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes

from web import rest


class _Extension(OpenApiSerializerFieldExtension):
    """Subclasses of a request field (an app's stricter timestamp, say) keep its OpenAPI type."""

    match_subclasses = True

    def bounds(self) -> dict:
        return {}

    def map_serializer_field(self, auto_schema, direction):
        return {**self.basic(auto_schema, direction), **self.bounds()}


class TextField(_Extension):
    target_class = "web.rest.Text"

    def basic(self, auto_schema, direction):
        return build_basic_type(OpenApiTypes.STR)

    def bounds(self):
        return {"maxLength": self.target.max_length}


class LookupIdField(TextField):
    target_class = "web.rest.LookupId"

    def bounds(self):
        return {"description": "an id the server looks up: malformed or unknown is a 404"}


class MoneyField(_Extension):
    target_class = "web.rest.Money"

    def basic(self, auto_schema, direction):
        return build_basic_type(OpenApiTypes.NUMBER)

    def bounds(self):
        return {"minimum": -float(rest.MONEY_LIMIT), "maximum": float(rest.MONEY_LIMIT)}


class IntegerField(_Extension):
    target_class = "web.rest.Integer"

    def basic(self, auto_schema, direction):
        return build_basic_type(OpenApiTypes.INT32)

    def bounds(self):
        return {"minimum": rest.INT_MIN, "maximum": rest.INT_MAX}


class BooleanField(_Extension):
    target_class = "web.rest.Boolean"

    def basic(self, auto_schema, direction):
        return build_basic_type(OpenApiTypes.BOOL)


class TimestampField(_Extension):
    target_class = "web.rest.Timestamp"

    def basic(self, auto_schema, direction):
        return build_basic_type(OpenApiTypes.DATETIME)


class TextListField(_Extension):
    target_class = "web.rest.TextList"

    def basic(self, auto_schema, direction):
        return build_array_type({**build_basic_type(OpenApiTypes.STR), "maxLength": self.target.max_length})

    def bounds(self):
        return {"maxItems": self.target.max_items}


class ObjectListField(_Extension):
    target_class = "web.rest.ObjectList"

    def basic(self, auto_schema, direction):
        return build_array_type(auto_schema.resolve_serializer(self.target.child_class, direction).ref)

    def bounds(self):
        return {"maxItems": self.target.max_items}


class ObjectField(OpenApiSerializerFieldExtension):
    target_class = "web.rest.Object"

    def map_serializer_field(self, auto_schema, direction):
        return auto_schema.resolve_serializer(self.target.child_class, direction).ref
