"""drf-spectacular extensions: OpenAPI types for the kernel's request fields and our authentication."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "mallbots_site.auth.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "kiosk_…, staff_… or bot_… token (manage.py issue_token)"}


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "mallbots_site.auth.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


def _basic(kind):
    class Extension(OpenApiSerializerFieldExtension):
        def map_serializer_field(self, auto_schema, direction):
            return build_basic_type(kind)

    return Extension


class TextField(_basic(OpenApiTypes.STR)):
    target_class = "eventstore.rest.Text"


class MoneyField(_basic(OpenApiTypes.NUMBER)):
    target_class = "eventstore.rest.Money"


class IntegerField(_basic(OpenApiTypes.INT32)):
    target_class = "eventstore.rest.Integer"


class BooleanField(_basic(OpenApiTypes.BOOL)):
    target_class = "eventstore.rest.Boolean"


class TimestampField(_basic(OpenApiTypes.DATETIME)):
    target_class = "eventstore.rest.Timestamp"


class TextListField(OpenApiSerializerFieldExtension):
    target_class = "eventstore.rest.TextList"

    def map_serializer_field(self, auto_schema, direction):
        return build_array_type(build_basic_type(OpenApiTypes.STR))


class ObjectListField(OpenApiSerializerFieldExtension):
    target_class = "eventstore.rest.ObjectList"

    def map_serializer_field(self, auto_schema, direction):
        return build_array_type(auto_schema.resolve_serializer(self.target.child_class, direction).ref)


class ObjectField(OpenApiSerializerFieldExtension):
    target_class = "eventstore.rest.Object"

    def map_serializer_field(self, auto_schema, direction):
        return auto_schema.resolve_serializer(self.target.child_class, direction).ref
