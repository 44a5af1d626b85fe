"""Toy endpoints for plumbing tests: one per access level, and one with typed fields."""

from django.db import DataError
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from access import levels
from eventstore.errors import DomainError, NotFound
from web import rest


class ItemIn(rest.RequestSerializer):
    productId = rest.Text()
    quantity = rest.Integer()


class FiltersIn(rest.RequestSerializer):
    minTotal = rest.Money()
    after = rest.Timestamp()
    storeIds = rest.TextList()


class TypedIn(rest.RequestSerializer):
    name = rest.Text()
    customerId = rest.Id()
    price = rest.Money()
    quantity = rest.Integer()
    enabled = rest.Boolean()
    items = rest.ObjectList(ItemIn)
    filters = rest.Object(FiltersIn)


class TypedView(APIView):
    permission_classes = [levels.Public]

    def post(self, request):
        data = rest.read(TypedIn, request)
        if data["name"] == "boom":
            raise RuntimeError("unexpected")
        if data["name"] == "unstorable":
            raise DataError("value too long for type character varying(64)")
        if data["name"] == "missing":
            raise NotFound("widget")
        if not data["name"].strip():
            raise DomainError("the widget name cannot be blank")
        return Response({"echo": {**data, "price": data["price"]}})


def level_view(permission):
    class LevelView(APIView):
        permission_classes = [permission]

        def get(self, request):
            return Response({})

    return LevelView.as_view()


LEVELS = {
    "public": levels.Public, "kiosk": levels.Kiosk, "store-staff": levels.StoreStaff, "store-admin": levels.StoreAdmin,
    "depot-staff": levels.DepotStaff, "depot-admin": levels.DepotAdmin, "bot-depot-staff": levels.BotOrDepotStaff,
    "bot-depot-admin": levels.BotOrDepotAdmin,
}

api_patterns = [path("toy/typed", TypedView.as_view())] + [
    path(f"toy/levels/{name}", level_view(permission)) for name, permission in LEVELS.items()
]
urlpatterns = [path("api/", include(api_patterns)), path("", include("mallbots_site.urls"))]
handler400 = "web.errors.bad_request_view"
handler404 = "web.errors.not_found_view"
handler500 = "web.errors.server_error_view"
