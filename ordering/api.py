"""Ordering REST endpoints (api.md §4.4): one APIView per operation."""

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response


from access import levels, principals
from eventstore import rows
from eventstore.errors import NotFound
from eventstore.ids import is_valid_id
from ordering import models, services
from ordering.domain import CUSTOMER, STAFF
from web import rest
from web.represent import representer
from web.views import Endpoint, responses


class OrderItemIn(rest.RequestSerializer):
    """Names and price are read for compatibility only: the order takes them from the catalog."""

    storeId = rest.LookupId()
    productId = rest.LookupId()
    storeName = rest.Text(rest.NAME_MAX_LENGTH)
    productName = rest.Text(rest.NAME_MAX_LENGTH)
    price = rest.Money()
    quantity = rest.Integer()


class CreateOrderIn(rest.RequestSerializer):
    items = rest.ObjectList(OrderItemIn)
    customerId = rest.Id()
    paymentId = rest.Id()


class OrderItemOut(serializers.Serializer):
    storeId = serializers.CharField(source="store_id")
    productId = serializers.CharField(source="product_id")
    storeName = serializers.CharField(source="store_name")
    productName = serializers.CharField(source="product_name")
    price = rest.money_field()
    quantity = serializers.IntegerField()


class OrderOut(serializers.Serializer):
    id = serializers.CharField()
    customerId = serializers.CharField(source="customer_id")
    paymentId = serializers.CharField(source="payment_id")
    items = OrderItemOut(many=True)
    status = serializers.CharField()
    shoppingId = serializers.CharField(source="shopping_id")
    invoiceId = serializers.CharField(source="invoice_id")
    total = rest.money_field()


order_out = representer(OrderOut)
IdOut = inline_serializer("OrderIdResponse", {"id": serializers.CharField()})
Empty = inline_serializer("OrderEmptyResponse", {})


def load_row(order_id: str) -> models.Order:
    row = rows.first(models.Order, "id = %s", [order_id]) if is_valid_id(order_id) else None
    if row is None:
        raise NotFound("order")
    return row


class CreateOrderView(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="createOrder", request=CreateOrderIn, responses=responses(IdOut, 400))
    def post(self, request):
        data = rest.read(CreateOrderIn, request)
        items = [{"product_id": i["productId"], "store_id": i["storeId"], "store_name": i["storeName"],
                  "product_name": i["productName"], "price": i["price"], "quantity": i["quantity"]}
                 for i in data["items"]]
        order_id = services.place_order(customer_id=data["customerId"], payment_id=data["paymentId"], items=items)
        return Response({"id": order_id})


class OrderView(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="getOrder",
                   responses=responses(inline_serializer("GetOrderResponse", {"order": OrderOut()}), 404))
    def get(self, request, order_id):
        return Response({"order": order_out(load_row(order_id))})

    @extend_schema(operation_id="cancelOrder", request=None, responses=responses(Empty, 400, 404, 409))
    def delete(self, request, order_id):
        services.cancel_order(order_id=order_id, reason=CUSTOMER if principals.is_kiosk(request) else STAFF)
        return Response({})


class ReadyOrderView(Endpoint):
    permission_classes = [levels.DepotStaff]

    @extend_schema(operation_id="readyOrder", request=rest.EmptyIn, responses=responses(Empty, 400, 404, 409))
    def put(self, request, order_id):
        rest.read(rest.EmptyIn, request)
        services.ready_order(order_id=order_id)
        return Response({})


class CompleteOrderView(Endpoint):
    permission_classes = [levels.DepotStaff]

    @extend_schema(operation_id="completeOrder", request=rest.EmptyIn, responses=responses(Empty, 400, 404, 409))
    def put(self, request, order_id):
        rest.read(rest.EmptyIn, request)
        services.complete_order(order_id=order_id)
        return Response({})


urlpatterns = [
    path("ordering", CreateOrderView.as_view(), name="ordering-create"),
    path("ordering/<str:order_id>", OrderView.as_view(), name="ordering-order"),
    path("ordering/<str:order_id>/ready", ReadyOrderView.as_view(), name="ordering-ready"),
    path("ordering/<str:order_id>/complete", CompleteOrderView.as_view(), name="ordering-complete"),
]
