"""Search REST endpoints (api.md §4.7) over the ``search_order`` read model, for depot staff.

Checks in order: field types (400, with paths such as ``filters.minTotal``), ``unknown order status``, the
total range, the cursor. Every accepted list and string is bounded: at most ``MAX_IDS`` store or product ids,
ids that are malformed (api.md §1.3) match no order, a cursor longer than it can be is invalid.
"""

from __future__ import annotations

import re

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from access import levels
from eventstore import codec
from eventstore.errors import NotFound
from search import domain, selectors
from web import rest
from web.views import Endpoint, responses

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")

# ---------------------------------------------------------------- request bodies


class Rfc3339(rest.Timestamp):
    """A timestamp in RFC 3339 ``date-time`` form only (``T`` separator, seconds, ``Z`` or an offset)."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not _RFC3339.match(data):
            self.fail_type()
        return super().to_internal_value(data)


class IdList(rest.TextList):
    """A list of id strings, at most ``domain.MAX_IDS`` of them (``<field> has too many items`` beyond, ADR 20)."""

    def __init__(self, **kwargs):
        super().__init__(max_items=domain.MAX_IDS, **kwargs)

    def to_internal_value(self, data):
        return tuple(super().to_internal_value(data))


class FiltersIn(rest.RequestSerializer):
    customerId = rest.LookupId()
    after = Rfc3339()
    before = Rfc3339()
    storeIds = IdList()
    productIds = IdList()
    minTotal = rest.Money()
    maxTotal = rest.Money()
    status = rest.Text()


class Cursor(rest.LookupId):
    """Any string: the cursor decoder judges it (api.md §4.7: one that cannot be decoded is
    ``the next cursor is invalid``); the request body's size bounds it."""


class SearchOrdersIn(rest.RequestSerializer):
    filters = rest.Object(FiltersIn)
    next = Cursor()
    limit = rest.Integer()


# ---------------------------------------------------------------- response bodies


class SearchItemOut(serializers.Serializer):
    productId = serializers.CharField(source="product_id")
    storeId = serializers.CharField(source="store_id")
    productName = serializers.CharField(source="product_name")
    storeName = serializers.CharField(source="store_name")
    price = rest.money_field()
    quantity = serializers.IntegerField()


class SearchOrderOut(serializers.Serializer):
    orderId = serializers.CharField(source="order_id")
    customerId = serializers.CharField(source="customer_id")
    customerName = serializers.CharField(source="customer_name")
    items = SearchItemOut(many=True)
    total = rest.money_field()
    status = serializers.CharField()
    createdAt = serializers.SerializerMethodField()
    updatedAt = serializers.SerializerMethodField()

    def get_createdAt(self, row) -> str:
        return codec.format_timestamp(row.created_at)

    def get_updatedAt(self, row) -> str:
        return codec.format_timestamp(row.updated_at)


class SearchOrdersResponse(serializers.Serializer):
    orders = SearchOrderOut(many=True)
    next = serializers.CharField()


class SearchOrderResponse(serializers.Serializer):
    order = SearchOrderOut()


# ---------------------------------------------------------------- views


class SearchOrdersApi(Endpoint):
    permission_classes = [levels.DepotStaff]

    @extend_schema(operation_id="searchOrders", request=SearchOrdersIn, responses=responses(SearchOrdersResponse, 400))
    def post(self, request):
        data = rest.read(SearchOrdersIn, request)
        given = data["filters"]
        filters = domain.Filters(
            customer_id=given["customerId"], after=given["after"], before=given["before"],
            store_ids=tuple(given["storeIds"]), product_ids=tuple(given["productIds"]),
            min_total=given["minTotal"], max_total=given["maxTotal"], status=given["status"])
        filters.check()
        cursor = domain.decode_cursor(data["next"])
        rows, next_cursor = selectors.search_orders(filters, cursor=cursor, limit=domain.page_size(data["limit"]))
        return Response(SearchOrdersResponse({"orders": rows, "next": next_cursor}).data)


class GetSearchOrderApi(Endpoint):
    permission_classes = [levels.DepotStaff]

    @extend_schema(operation_id="getSearchOrder", responses=responses(SearchOrderResponse, 404))
    def get(self, request, order_id: str):
        row = selectors.find_order(order_id)
        if row is None:
            raise NotFound("order")
        return Response(SearchOrderResponse({"order": row}).data)


urlpatterns = [
    path("search/orders", SearchOrdersApi.as_view()),
    path("search/orders/<str:order_id>", GetSearchOrderApi.as_view()),
]
