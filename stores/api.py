"""REST endpoints of stores (api.md §4.1): one view class per operation; reads through ``stores.selectors``.

StoreStaff changes of an existing store or its products are limited to the stores the caller is a member
of unless the caller is a store admin (``stores.models.StoreMember``; 403 ``permission denied`` after the
404); creating a store makes the caller a member of it.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from access import levels
from access.principals import STORE_ADMIN, has_role
from stores import selectors, services
from stores.domain import SKU_MAX_LENGTH
from web import rest
from web.views import Endpoint, responses, route

# ---------------------------------------------------------------- request bodies


class CreateStoreIn(rest.RequestSerializer):
    name = rest.Text(rest.NAME_MAX_LENGTH)
    location = rest.Text(rest.NAME_MAX_LENGTH)


class RebrandStoreIn(rest.RequestSerializer):
    name = rest.Text(rest.NAME_MAX_LENGTH)


class AddProductIn(rest.RequestSerializer):
    name = rest.Text(rest.NAME_MAX_LENGTH)
    description = rest.Text(rest.DESCRIPTION_MAX_LENGTH)
    sku = rest.Text(SKU_MAX_LENGTH)
    price = rest.Money()


class RebrandProductIn(rest.RequestSerializer):
    name = rest.Text(rest.NAME_MAX_LENGTH)
    description = rest.Text(rest.DESCRIPTION_MAX_LENGTH)


class ProductPriceIn(rest.RequestSerializer):
    price = rest.Money()


# ---------------------------------------------------------------- response bodies


class StoreOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    location = serializers.CharField()
    participating = serializers.BooleanField()


class ProductOut(serializers.Serializer):
    id = serializers.CharField()
    storeId = serializers.CharField(source="store_id")
    name = serializers.CharField()
    description = serializers.CharField()
    sku = serializers.CharField()
    price = rest.money_field()


class StoreResponse(serializers.Serializer):
    store = StoreOut()


class StoresResponse(serializers.Serializer):
    stores = StoreOut(many=True)


class ProductResponse(serializers.Serializer):
    product = ProductOut()


class ProductsResponse(serializers.Serializer):
    products = ProductOut(many=True)


class StoresIdResponse(serializers.Serializer):
    id = serializers.CharField()


class StoresEmptyResponse(serializers.Serializer):
    pass


# ---------------------------------------------------------------- rendering


def product_json(row: tuple) -> dict:
    """A ``selectors.PRODUCT_COLUMNS`` row as ``ProductOut`` renders it (the kiosk's hot path skips the
    serializer)."""
    product_id, store_id, name, description, sku, price = row
    return {"id": product_id, "storeId": store_id, "name": name, "description": description, "sku": sku,
            "price": price}


# ---------------------------------------------------------------- views


def member(request) -> int | None:
    """Whose store memberships limit this change: the calling staff user, unless a store admin (``None``)."""
    return None if has_role(request.user, STORE_ADMIN) else request.user.pk


class CreateStoreApi(Endpoint):
    permission_classes = [levels.StoreStaff]

    @extend_schema(operation_id="createStore", request=CreateStoreIn, responses=responses(StoresIdResponse, 400))
    def post(self, request):
        data = rest.read(CreateStoreIn, request)
        store_id = services.create_store(name=data["name"], location=data["location"], creator=request.user.pk)
        return Response({"id": store_id})


class GetStoresApi(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="getStores", responses=responses(StoresResponse))
    def get(self, request):
        return Response(StoresResponse({"stores": selectors.all_stores()}).data)


class GetParticipatingStoresApi(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="getParticipatingStores", responses=responses(StoresResponse))
    def get(self, request):
        return Response(StoresResponse({"stores": selectors.participating_stores()}).data)


class GetStoreApi(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="getStore", responses=responses(StoreResponse, 404))
    def get(self, request, store_id: str):
        return Response(StoreResponse({"store": selectors.store_row(store_id)}).data)


class EnableParticipationApi(Endpoint):
    permission_classes = [levels.StoreAdmin]

    @extend_schema(operation_id="enableParticipation", request=rest.EmptyIn,
                   responses=responses(StoresEmptyResponse, 400, 404))
    def put(self, request, store_id: str):
        rest.read(rest.EmptyIn, request)
        services.enable_participation(store_id=store_id)
        return Response({})


class DisableParticipationApi(Endpoint):
    permission_classes = [levels.StoreAdmin]

    @extend_schema(operation_id="disableParticipation", request=None,
                   responses=responses(StoresEmptyResponse, 400, 404))
    def delete(self, request, store_id: str):
        services.disable_participation(store_id=store_id)
        return Response({})


class RebrandStoreApi(Endpoint):
    permission_classes = [levels.StoreStaff]

    @extend_schema(operation_id="rebrandStore", request=RebrandStoreIn,
                   responses=responses(StoresEmptyResponse, 400, 404))
    def put(self, request, store_id: str):
        data = rest.read(RebrandStoreIn, request)
        services.rebrand_store(store_id=store_id, name=data["name"], member=member(request))
        return Response({})


class AddProductApi(Endpoint):
    permission_classes = [levels.StoreStaff]

    @extend_schema(operation_id="addProduct", request=AddProductIn, responses=responses(StoresIdResponse, 400, 404))
    def post(self, request, store_id: str):
        data = rest.read(AddProductIn, request)
        product_id = services.add_product(store_id=store_id, name=data["name"], description=data["description"],
                                          sku=data["sku"], price=data["price"], member=member(request))
        return Response({"id": product_id})


class GetStoreProductsApi(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="getStoreProducts", responses=responses(ProductsResponse, 404))
    def get(self, request, store_id: str):
        return Response({"products": [product_json(row) for row in selectors.active_product_rows(store_id)]})


class RebrandProductApi(Endpoint):
    permission_classes = [levels.StoreStaff]

    @extend_schema(operation_id="rebrandProduct", request=RebrandProductIn,
                   responses=responses(StoresEmptyResponse, 400, 404))
    def put(self, request, product_id: str):
        data = rest.read(RebrandProductIn, request)
        services.rebrand_product(product_id=product_id, name=data["name"], description=data["description"],
                                 member=member(request))
        return Response({})


class IncreaseProductPriceApi(Endpoint):
    permission_classes = [levels.StoreStaff]

    @extend_schema(operation_id="increaseProductPrice", request=ProductPriceIn,
                   responses=responses(StoresEmptyResponse, 400, 404))
    def put(self, request, product_id: str):
        data = rest.read(ProductPriceIn, request)
        services.increase_product_price(product_id=product_id, price=data["price"], member=member(request))
        return Response({})


class DecreaseProductPriceApi(Endpoint):
    permission_classes = [levels.StoreStaff]

    @extend_schema(operation_id="decreaseProductPrice", request=ProductPriceIn,
                   responses=responses(StoresEmptyResponse, 400, 404))
    def put(self, request, product_id: str):
        data = rest.read(ProductPriceIn, request)
        services.decrease_product_price(product_id=product_id, price=data["price"], member=member(request))
        return Response({})


class RemoveProductApi(Endpoint):
    permission_classes = [levels.StoreStaff]

    @extend_schema(operation_id="removeProduct", request=None, responses=responses(StoresEmptyResponse, 404))
    def delete(self, request, product_id: str):
        services.remove_product(product_id=product_id, member=member(request))
        return Response({})


class GetProductApi(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="getProduct", responses=responses(ProductResponse, 404))
    def get(self, request, product_id: str):
        return Response(ProductResponse({"product": selectors.active_product_row(product_id)}).data)


urlpatterns = [
    path("stores", route(GetStoresApi, CreateStoreApi)),
    path("stores/participating", GetParticipatingStoresApi.as_view()),
    path("stores/products/<str:product_id>", route(GetProductApi, RemoveProductApi)),
    path("stores/products/<str:product_id>/rebrand", RebrandProductApi.as_view()),
    path("stores/products/<str:product_id>/increasePrice", IncreaseProductPriceApi.as_view()),
    path("stores/products/<str:product_id>/decreasePrice", DecreaseProductPriceApi.as_view()),
    path("stores/<str:store_id>", GetStoreApi.as_view()),
    path("stores/<str:store_id>/participating", route(EnableParticipationApi, DisableParticipationApi)),
    path("stores/<str:store_id>/rebrand", RebrandStoreApi.as_view()),
    path("stores/<str:store_id>/products", route(GetStoreProductsApi, AddProductApi)),
]
