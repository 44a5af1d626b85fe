"""REST endpoints of customers (api.md §4.2): one view class per operation, reads from the read model."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from access import levels
from customers import models, services
from customers.domain import SMS_NUMBER_MAX_LENGTH
from eventstore.errors import NotFound
from eventstore.ids import is_valid_id
from web import rest
from web.views import Endpoint, responses


class RegisterCustomerIn(rest.RequestSerializer):
    name = rest.Text(rest.NAME_MAX_LENGTH)
    smsNumber = rest.Text(SMS_NUMBER_MAX_LENGTH)


class ChangeSmsNumberIn(rest.RequestSerializer):
    smsNumber = rest.Text(SMS_NUMBER_MAX_LENGTH)


class CustomerOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    smsNumber = serializers.CharField(source="sms_number")
    enabled = serializers.BooleanField()


class CustomerResponse(serializers.Serializer):
    customer = CustomerOut()


class CustomersIdResponse(serializers.Serializer):
    id = serializers.CharField()


class CustomersEmptyResponse(serializers.Serializer):
    pass


class RegisterCustomerApi(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="registerCustomer", request=RegisterCustomerIn,
                   responses=responses(CustomersIdResponse, 400))
    def post(self, request):
        data = rest.read(RegisterCustomerIn, request)
        return Response({"id": services.register_customer(name=data["name"], sms_number=data["smsNumber"])})


class GetCustomerApi(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="getCustomer", responses=responses(CustomerResponse, 404))
    def get(self, request, customer_id: str):
        row = models.Customer.objects.filter(id=customer_id).first() if is_valid_id(customer_id) else None
        if row is None:
            raise NotFound("customer")
        return Response(CustomerResponse({"customer": row}).data)


class ChangeSmsNumberApi(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="changeSmsNumber", request=ChangeSmsNumberIn,
                   responses=responses(CustomersEmptyResponse, 400, 404))
    def put(self, request, customer_id: str):
        data = rest.read(ChangeSmsNumberIn, request)
        services.change_sms_number(customer_id=customer_id, sms_number=data["smsNumber"])
        return Response({})


class EnableCustomerApi(Endpoint):
    permission_classes = [levels.DepotAdmin]

    @extend_schema(operation_id="enableCustomer", request=rest.EmptyIn,
                   responses=responses(CustomersEmptyResponse, 400, 404))
    def put(self, request, customer_id: str):
        rest.read(rest.EmptyIn, request)
        services.enable_customer(customer_id=customer_id)
        return Response({})


class DisableCustomerApi(Endpoint):
    permission_classes = [levels.DepotAdmin]

    @extend_schema(operation_id="disableCustomer", request=rest.EmptyIn,
                   responses=responses(CustomersEmptyResponse, 400, 404))
    def put(self, request, customer_id: str):
        rest.read(rest.EmptyIn, request)
        services.disable_customer(customer_id=customer_id)
        return Response({})


urlpatterns = [
    path("customers", RegisterCustomerApi.as_view()),
    path("customers/<str:customer_id>", GetCustomerApi.as_view()),
    path("customers/<str:customer_id>/change-sms", ChangeSmsNumberApi.as_view()),
    path("customers/<str:customer_id>/enable", EnableCustomerApi.as_view()),
    path("customers/<str:customer_id>/disable", DisableCustomerApi.as_view()),
]
