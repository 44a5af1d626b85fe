"""REST endpoints of payments (api.md §4.5); reads come from the read models."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from access import levels
from eventstore.errors import NotFound
from eventstore.ids import is_valid_id
from payments import models, services
from web import rest
from web.views import Endpoint, responses


class AuthorizePaymentIn(rest.RequestSerializer):
    customerId = rest.Id()
    amount = rest.Money()


class PaymentOut(serializers.Serializer):
    id = serializers.CharField()
    customerId = serializers.CharField(source="customer_id")
    amount = rest.money_field()
    status = serializers.CharField()
    orderId = serializers.CharField(source="order_id")


class InvoiceOut(serializers.Serializer):
    id = serializers.CharField()
    orderId = serializers.CharField(source="order_id")
    paymentId = serializers.CharField(source="payment_id")
    amount = rest.money_field()
    status = serializers.CharField()
    refundRequired = serializers.BooleanField(source="refund_required")


class PaymentResponse(serializers.Serializer):
    payment = PaymentOut()


class InvoiceResponse(serializers.Serializer):
    invoice = InvoiceOut()


class PaymentsIdResponse(serializers.Serializer):
    id = serializers.CharField()


class PaymentsEmptyResponse(serializers.Serializer):
    pass


def row_or_404(model, thing: str, id: str):
    row = model.objects.filter(id=id).first() if is_valid_id(id) else None
    if row is None:
        raise NotFound(thing)
    return row


class AuthorizePaymentApi(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="authorizePayment", request=AuthorizePaymentIn,
                   responses=responses(PaymentsIdResponse, 400))
    def post(self, request):
        """Authorize an amount on the customer's card at the kiosk; returns the payment id."""
        data = rest.read(AuthorizePaymentIn, request)
        return Response({"id": services.authorize_payment(customer_id=data["customerId"], amount=data["amount"])})


class GetPaymentApi(Endpoint):
    permission_classes = [levels.Kiosk]

    @extend_schema(operation_id="getPayment", responses=responses(PaymentResponse, 404))
    def get(self, request, payment_id: str):
        """A payment authorization and what became of it."""
        return Response(PaymentResponse({"payment": row_or_404(models.Payment, "payment", payment_id)}).data)


class GetInvoiceApi(Endpoint):
    permission_classes = [levels.DepotStaff]

    @extend_schema(operation_id="getInvoice", responses=responses(InvoiceResponse, 404))
    def get(self, request, invoice_id: str):
        """The invoice of a ready order (invoice id = order id), for review at the depot."""
        return Response(InvoiceResponse({"invoice": row_or_404(models.Invoice, "invoice", invoice_id)}).data)


class PayInvoiceApi(Endpoint):
    permission_classes = [levels.DepotStaff]

    @extend_schema(operation_id="payInvoice", request=rest.EmptyIn,
                   responses=responses(PaymentsEmptyResponse, 400, 404, 409))
    def put(self, request, invoice_id: str):
        """Pay the invoice: the order's confirmed payment is captured for the invoice amount."""
        rest.read(rest.EmptyIn, request)
        services.pay_invoice(invoice_id=invoice_id)
        return Response({})


urlpatterns = [
    path("payments", AuthorizePaymentApi.as_view()),
    path("payments/invoices/<str:invoice_id>", GetInvoiceApi.as_view()),
    path("payments/invoices/<str:invoice_id>/pay", PayInvoiceApi.as_view()),
    path("payments/<str:payment_id>", GetPaymentApi.as_view()),
]
