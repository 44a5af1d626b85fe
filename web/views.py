"""Base API view and schema helpers shared by every module's ``api.py``."""

from rest_framework import serializers
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.views import APIView

from web.rest import BadRequest


class Endpoint(APIView):
    """One API operation, with its access level in ``permission_classes``.

    A method the path does not serve is a 405 before authentication (api.md §1.4); ``OPTIONS`` is none of
    the API's methods, so it is one too (DRF would answer it with the view's metadata). Operations of one
    path with different access levels are separate endpoints joined by ``route``. A query parameter
    holding a NUL character is a 400 ``<name> contains an invalid character`` (PostgreSQL cannot compare
    it) after the access level, like a body field (ADR 20).
    """

    http_method_names = ["get", "post", "put", "delete", "head"]

    def initial(self, request, *args, **kwargs):
        if request.method not in self.allowed_methods:
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)
        for name, values in request.query_params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise BadRequest(f"{name} contains an invalid character")


def route(*endpoints: type[Endpoint]):
    """The view of a path served by several endpoints; each method keeps its endpoint's access level."""
    owners = {method: endpoint for endpoint in endpoints for method in ("get", "post", "put", "delete")
              if method in vars(endpoint)}
    owners.setdefault("head", owners.get("get"))

    class Route(*endpoints):
        def get_permissions(self):
            owner = owners.get(self.request.method.lower()) or endpoints[0]
            return [permission() for permission in owner.permission_classes]

    Route.__name__ = Route.__qualname__ = "".join(endpoint.__name__ for endpoint in endpoints)
    return Route.as_view()


class ErrorDetail(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()


class ErrorBody(serializers.Serializer):
    """The error body of api.md §1.3."""

    code = serializers.IntegerField()
    message = serializers.CharField()
    details = ErrorDetail(many=True)


def responses(success, *errors: int) -> dict:
    """drf-spectacular ``responses=`` for an operation: its success body and error statuses (+401, 403)."""
    return {200: success, 401: ErrorBody, 403: ErrorBody, **{status: ErrorBody for status in errors}}
