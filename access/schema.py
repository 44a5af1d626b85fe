"""drf-spectacular extensions: the OpenAPI security schemes of the two authentication classes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "access.tokens.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "kiosk_…, staff_… or bot_… token (manage.py issue_token)"}


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "access.tokens.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
