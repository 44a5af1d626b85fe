"""REST endpoints of baskets (api.md §4.3); reads come from the Basket read model."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from access import levels
from baskets import models, services
from eventstore import rows
from eventstore.errors import NotFound
from eventstore.ids import is_valid_id
from web import rest
from web.represent import representer
from web.views import Endpoint, responses


class StartBasketIn(rest.RequestSerializer):
    customerId = rest.Id()


class CheckoutBasketIn(rest.RequestSerializer):
    paymentId = rest.Id()


class BasketItemIn(rest.RequestSerializer):
    productId = rest.LookupId()
    quantity = rest.Integer()


class BasketItemOut(serializers.Serializer):
    storeId = serializers.CharField(source="store_id")
    productId = serializers.CharField(source="product_id")
    storeName = serializers.CharField(source="store_name")
    productName = serializers.CharField(source="product_name")
    productPrice = rest.money_field(source="price")
    quantity = serializers.IntegerField()


class BasketOut(serializers.Serializer):
    id = serializers.CharField()
    items = BasketItemOut(many=True, source="lines")
    customerId = serializers.CharField(source="customer_id")
    paymentId = serializers.CharField(source="payment_id")
    status = serializers.CharField()
    total = rest.money_field()


class BasketResponse(serializers.Serializer):
    basket = BasketOut()


basket_response = representer(BasketResponse)


class BasketsIdResponse(serializers.Serializer):
    id = serializers.CharField()


class BasketsEmptyResponse(serializers.Serializer):
    pass


class KioskEndpoint(Endpoint):
    """Every basket operation is for kiosks (and staff serving a customer)."""

    permission_classes = [levels.Kiosk]


class StartBasketApi(KioskEndpoint):
    @extend_schema(operation_id="startBasket", request=StartBasketIn, responses=responses(BasketsIdResponse, 400))
    def post(self, request):
        """Start an open basket for a customer (the customer is checked later, by the saga)."""
        data = rest.read(StartBasketIn, request)
        return Response({"id": services.start_basket(customer_id=data["customerId"])})


class BasketApi(KioskEndpoint):
    @extend_schema(operation_id="getBasket", responses=responses(BasketResponse, 404))
    def get(self, request, basket_id: str):
        """The basket with its items in the order they were first added and its total."""
        row, lines = (rows.first_with_all(models.Basket, basket_id, models.BasketItem, "basket_id", order_by="position")
                      if is_valid_id(basket_id) else (None, []))
        if row is None:
            raise NotFound("basket")
        row.lines = lines
        return Response(basket_response({"basket": row}))

    @extend_schema(operation_id="cancelBasket", request=None,
                   responses=responses(BasketsEmptyResponse, 400, 404, 409))
    def delete(self, request, basket_id: str):
        """The customer walks away: the open basket is cancelled and emptied."""
        services.cancel_basket(basket_id=basket_id)
        return Response({})


class CheckoutBasketApi(KioskEndpoint):
    @extend_schema(operation_id="checkoutBasket", request=CheckoutBasketIn,
                   responses=responses(BasketsEmptyResponse, 400, 404, 409))
    def put(self, request, basket_id: str):
        """Check the basket out with the kiosk's payment authorization; ordering then creates the order."""
        data = rest.read(CheckoutBasketIn, request)
        services.checkout_basket(basket_id=basket_id, payment_id=data["paymentId"])
        return Response({})


class AddItemApi(KioskEndpoint):
    @extend_schema(operation_id="addItem", request=BasketItemIn,
                   responses=responses(BasketsEmptyResponse, 400, 404, 409))
    def put(self, request, basket_id: str):
        """Add a product, capturing its name, price and store name now; adding it again adds to the quantity."""
        data = rest.read(BasketItemIn, request)
        services.add_item(basket_id=basket_id, product_id=data["productId"], quantity=data["quantity"])
        return Response({})


class RemoveItemApi(KioskEndpoint):
    @extend_schema(operation_id="removeItem", request=BasketItemIn,
                   responses=responses(BasketsEmptyResponse, 400, 404, 409))
    def put(self, request, basket_id: str):
        """Take a quantity of a product out; the line disappears at 0. Unknown products are a no-op."""
        data = rest.read(BasketItemIn, request)
        services.remove_item(basket_id=basket_id, product_id=data["productId"], quantity=data["quantity"])
        return Response({})


urlpatterns = [
    path("baskets", StartBasketApi.as_view()),
    path("baskets/<str:basket_id>", BasketApi.as_view()),
    path("baskets/<str:basket_id>/checkout", CheckoutBasketApi.as_view()),
    path("baskets/<str:basket_id>/addItem", AddItemApi.as_view()),
    path("baskets/<str:basket_id>/removeItem", RemoveItemApi.as_view()),
]
