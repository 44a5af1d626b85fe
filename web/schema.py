"""drf-spectacular extensions: the OpenAPI types of the request fields in ``web.rest``."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes


def _basic(kind):
    class Extension(OpenApiSerializerFieldExtension):
        match_subclasses = True

        def map_serializer_field(self, auto_schema, direction):
            return build_basic_type(kind)

    return Extension


class TextField(_basic(OpenApiTypes.STR)):
    target_class = "web.rest.Text"


class MoneyField(_basic(OpenApiTypes.NUMBER)):
    target_class = "web.rest.Money"


class IntegerField(_basic(OpenApiTypes.INT32)):
    target_class = "web.rest.Integer"


class BooleanField(_basic(OpenApiTypes.BOOL)):
    target_class = "web.rest.Boolean"


class TimestampField(_basic(OpenApiTypes.DATETIME)):
    target_class = "web.rest.Timestamp"


class TextListField(OpenApiSerializerFieldExtension):
    target_class = "web.rest.TextList"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        return build_array_type(build_basic_type(OpenApiTypes.STR))


class ObjectListField(OpenApiSerializerFieldExtension):
    target_class = "web.rest.ObjectList"

    def map_serializer_field(self, auto_schema, direction):
        return build_array_type(auto_schema.resolve_serializer(self.target.child_class, direction).ref)


class ObjectField(OpenApiSerializerFieldExtension):
    target_class = "web.rest.Object"

    def map_serializer_field(self, auto_schema, direction):
        return auto_schema.resolve_serializer(self.target.child_class, direction).ref
