"""REST endpoints of the depot's shopping lists and bots (api.md §4.6), reading the read models.

A path whose operations need different access levels joins one endpoint per level with ``route``.

Bot+DepotStaff and Bot+DepotAdmin endpoints let a bot token through the access level; the view or the
service then checks, after the 404, that the list is assigned to that bot (403 ``the shopping list is
not assigned to this bot``) or that the bot record is its own (403 ``permission denied``).
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from access import levels, principals
from depot import domain, models, services
from eventstore import codec
from eventstore.errors import Forbidden, NotFound
from eventstore.ids import is_valid_id
from web import rest
from web.rest import BadRequest
from web.views import Endpoint, responses, route

DEFAULT_LIMIT, MAX_LIMIT = 50, 200

# ---------------------------------------------------------------- request bodies


class ShoppingItemIn(rest.RequestSerializer):
    productId = rest.LookupId()
    storeId = rest.LookupId()
    quantity = rest.Integer()


class CreateShoppingListIn(rest.RequestSerializer):
    orderId = rest.Id()
    items = rest.ObjectList(ShoppingItemIn)


class PickItemIn(rest.RequestSerializer):
    productId = rest.LookupId()
    quantity = rest.Integer()


class ItemUnavailableIn(rest.RequestSerializer):
    productId = rest.LookupId()


class AssignIn(rest.RequestSerializer):
    botId = rest.LookupId()


class RegisterBotIn(rest.RequestSerializer):
    name = rest.Text(rest.NAME_MAX_LENGTH)


# ---------------------------------------------------------------- response bodies


class ShoppingItemOut(serializers.Serializer):
    productId = serializers.CharField(source="product_id")
    productName = serializers.CharField(source="product_name")
    quantity = serializers.IntegerField()
    pickedQuantity = serializers.IntegerField(source="picked_quantity")
    status = serializers.CharField()


class StopOut(serializers.Serializer):
    storeId = serializers.CharField(source="store_id")
    storeName = serializers.CharField(source="store_name")
    storeLocation = serializers.CharField(source="store_location")
    items = ShoppingItemOut(many=True)


class ShoppingListOut(serializers.Serializer):
    id = serializers.CharField()
    orderId = serializers.CharField(source="order_id")
    status = serializers.CharField()
    assignedBotId = serializers.CharField(source="assigned_bot_id")
    stops = StopOut(many=True)
    createdAt = serializers.SerializerMethodField()

    def get_createdAt(self, row) -> str:
        return codec.format_timestamp(row.created_at)


class ShoppingListResponse(serializers.Serializer):
    shoppingList = ShoppingListOut()


class ShoppingListsResponse(serializers.Serializer):
    shoppingLists = ShoppingListOut(many=True)


class BotOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    available = serializers.SerializerMethodField()
    shoppingListId = serializers.CharField(source="shopping_list_id")

    def get_available(self, row) -> bool:
        return row.status == domain.IDLE


class BotResponse(serializers.Serializer):
    bot = BotOut()


class BotsResponse(serializers.Serializer):
    bots = BotOut(many=True)


class DepotIdResponse(serializers.Serializer):
    id = serializers.CharField()


class DepotEmptyResponse(serializers.Serializer):
    pass


# ---------------------------------------------------------------- views


class DepotEndpoint(Endpoint):
    """Depot operations default to DepotStaff; bot-facing ones set ``BotOrDepotStaff``."""

    permission_classes = [levels.DepotStaff]


def acting_bot(request) -> str | None:
    return principals.bot_id_of(request)


def load_row(list_id: str, request) -> models.ShoppingList:
    """The list's read-model row: 404 if unknown, then 403 if a bot token reads another bot's list."""
    row = models.ShoppingList.objects.filter(id=list_id).first() if is_valid_id(list_id) else None
    if row is None:
        raise NotFound("shopping list")
    if principals.is_bot(request) and row.assigned_bot_id != principals.bot_id_of(request):
        raise Forbidden(services.NOT_ASSIGNED_TO_BOT)
    return row


class ShoppingListsApi(DepotEndpoint):
    @extend_schema(operation_id="createShoppingList", request=CreateShoppingListIn,
                   responses=responses(DepotIdResponse, 400, 404))
    def post(self, request):
        data = rest.read(CreateShoppingListIn, request)
        lines = [services.Line(product_id=i["productId"], store_id=i["storeId"], quantity=i["quantity"])
                 for i in data["items"]]
        return Response({"id": services.create_shopping_list(order_id=data["orderId"], items=lines)})

    @extend_schema(operation_id="listShoppingLists", responses=responses(ShoppingListsResponse, 400), parameters=[
        OpenApiParameter("status", OpenApiTypes.STR, enum=list(domain.STATUSES)),
        OpenApiParameter("botId", OpenApiTypes.STR), OpenApiParameter("orderId", OpenApiTypes.STR),
        OpenApiParameter("limit", OpenApiTypes.INT, description=f"default {DEFAULT_LIMIT}, at most {MAX_LIMIT}"),
    ])
    def get(self, request):
        query = request.query_params
        rows = models.ShoppingList.objects.all()
        status = query.get("status", "")
        if status:
            if status not in domain.STATUSES:
                raise BadRequest(f"unknown shopping list status: {status}")
            rows = rows.filter(status=status)
        limit = _limit(query.get("limit", ""))
        if query.get("botId"):
            rows = rows.filter(assigned_bot_id=query["botId"])
        if query.get("orderId"):
            rows = rows.filter(order_id=query["orderId"])
        rows = rows.order_by("-created_at", "-id")[:limit]
        return Response(ShoppingListsResponse({"shoppingLists": list(rows)}).data)


def _limit(text: str) -> int:
    if text.strip() == "":
        return DEFAULT_LIMIT
    try:
        value = int(text.strip())
    except ValueError:
        raise BadRequest("limit must be an integer")
    return DEFAULT_LIMIT if value <= 0 else min(value, MAX_LIMIT)


class GetShoppingListApi(DepotEndpoint):
    permission_classes = [levels.BotOrDepotStaff]

    @extend_schema(operation_id="getShoppingList", responses=responses(ShoppingListResponse, 404))
    def get(self, request, list_id: str):
        return Response(ShoppingListResponse({"shoppingList": load_row(list_id, request)}).data)


class CancelShoppingListApi(DepotEndpoint):
    @extend_schema(operation_id="cancelShoppingList", request=rest.EmptyIn,
                   responses=responses(DepotEmptyResponse, 400, 404))
    def post(self, request, list_id: str):
        rest.read(rest.EmptyIn, request)
        services.cancel_shopping_list(list_id=list_id)
        return Response({})

    @extend_schema(operation_id="deleteShoppingList", responses=responses(DepotEmptyResponse, 400, 404))
    def delete(self, request, list_id: str):
        services.cancel_shopping_list(list_id=list_id)
        return Response({})


class InitiateShoppingApi(DepotEndpoint):
    @extend_schema(operation_id="initiateShopping", request=rest.EmptyIn,
                   responses=responses(DepotEmptyResponse, 400, 404))
    def put(self, request, list_id: str):
        rest.read(rest.EmptyIn, request)
        services.initiate_shopping(list_id=list_id)
        return Response({})


class StartShoppingApi(DepotEndpoint):
    permission_classes = [levels.BotOrDepotStaff]

    @extend_schema(operation_id="startShopping", request=rest.EmptyIn,
                   responses=responses(DepotEmptyResponse, 400, 404))
    def put(self, request, list_id: str):
        rest.read(rest.EmptyIn, request)
        services.start_shopping(list_id=list_id, acting_bot_id=acting_bot(request))
        return Response({})


class PickItemApi(DepotEndpoint):
    permission_classes = [levels.BotOrDepotStaff]

    @extend_schema(operation_id="pickItem", request=PickItemIn, responses=responses(DepotEmptyResponse, 400, 404))
    def put(self, request, list_id: str):
        data = rest.read(PickItemIn, request)
        services.pick_item(list_id=list_id, product_id=data["productId"], quantity=data["quantity"],
                           acting_bot_id=acting_bot(request))
        return Response({})


class ItemUnavailableApi(DepotEndpoint):
    permission_classes = [levels.BotOrDepotStaff]

    @extend_schema(operation_id="reportItemUnavailable", request=ItemUnavailableIn,
                   responses=responses(DepotEmptyResponse, 400, 404))
    def put(self, request, list_id: str):
        data = rest.read(ItemUnavailableIn, request)
        services.report_item_unavailable(list_id=list_id, product_id=data["productId"],
                                         acting_bot_id=acting_bot(request))
        return Response({})


class CompleteShoppingListApi(DepotEndpoint):
    permission_classes = [levels.BotOrDepotStaff]

    @extend_schema(operation_id="completeShoppingList", request=rest.EmptyIn,
                   responses=responses(DepotEmptyResponse, 400, 404))
    def put(self, request, list_id: str):
        rest.read(rest.EmptyIn, request)
        services.complete_shopping_list(list_id=list_id, acting_bot_id=acting_bot(request))
        return Response({})


class AssignShoppingListApi(DepotEndpoint):
    @extend_schema(operation_id="assignShoppingList", request=AssignIn,
                   responses=responses(DepotEmptyResponse, 400, 404))
    def put(self, request, list_id: str):
        data = rest.read(AssignIn, request)
        services.assign_shopping_list(list_id=list_id, bot_id=data["botId"])
        return Response({})


class RegisterBotApi(DepotEndpoint):
    permission_classes = [levels.DepotAdmin]

    @extend_schema(operation_id="registerBot", request=RegisterBotIn, responses=responses(DepotIdResponse, 400))
    def post(self, request):
        data = rest.read(RegisterBotIn, request)
        return Response({"id": services.register_bot(name=data["name"])})


class ListBotsApi(DepotEndpoint):
    @extend_schema(operation_id="listBots", responses=responses(BotsResponse, 400), parameters=[
        OpenApiParameter("status", OpenApiTypes.STR, enum=list(domain.BOT_STATUSES))])
    def get(self, request):
        rows = models.Bot.objects.order_by("name", "id")
        status = request.query_params.get("status", "")
        if status:
            if status not in domain.BOT_STATUSES:
                raise BadRequest(f"unknown bot status: {status}")
            rows = rows.filter(status=status)
        return Response(BotsResponse({"bots": list(rows)}).data)


class GetBotApi(DepotEndpoint):
    permission_classes = [levels.BotOrDepotStaff]

    @extend_schema(operation_id="getBot", responses=responses(BotResponse, 404))
    def get(self, request, bot_id: str):
        row = models.Bot.objects.filter(id=bot_id).first() if is_valid_id(bot_id) else None
        if row is None:
            raise NotFound("bot")
        if principals.is_bot(request) and row.id != principals.bot_id_of(request):
            raise Forbidden(services.NOT_THIS_BOT)
        return Response(BotResponse({"bot": row}).data)


class BotOnlineApi(DepotEndpoint):
    permission_classes = [levels.BotOrDepotAdmin]

    @extend_schema(operation_id="botOnline", request=rest.EmptyIn, responses=responses(DepotEmptyResponse, 400, 404))
    def put(self, request, bot_id: str):
        rest.read(rest.EmptyIn, request)
        services.bot_online(bot_id=bot_id, acting_bot_id=acting_bot(request))
        return Response({})


class BotOfflineApi(DepotEndpoint):
    permission_classes = [levels.BotOrDepotAdmin]

    @extend_schema(operation_id="botOffline", request=rest.EmptyIn, responses=responses(DepotEmptyResponse, 400, 404))
    def put(self, request, bot_id: str):
        rest.read(rest.EmptyIn, request)
        services.bot_offline(bot_id=bot_id, acting_bot_id=acting_bot(request))
        return Response({})


urlpatterns = [
    path("depot/shopping", ShoppingListsApi.as_view()),
    path("depot/shopping/<str:list_id>", route(GetShoppingListApi, CancelShoppingListApi)),
    path("depot/shopping/<str:list_id>/initiate", InitiateShoppingApi.as_view()),
    path("depot/shopping/<str:list_id>/start", StartShoppingApi.as_view()),
    path("depot/shopping/<str:list_id>/pickItem", PickItemApi.as_view()),
    path("depot/shopping/<str:list_id>/itemUnavailable", ItemUnavailableApi.as_view()),
    path("depot/shopping/<str:list_id>/complete", CompleteShoppingListApi.as_view()),
    path("depot/shopping/<str:list_id>/assign", AssignShoppingListApi.as_view()),
    path("depot/bots", route(ListBotsApi, RegisterBotApi)),
    path("depot/bots/<str:bot_id>", GetBotApi.as_view()),
    path("depot/bots/<str:bot_id>/online", BotOnlineApi.as_view()),
    path("depot/bots/<str:bot_id>/offline", BotOfflineApi.as_view()),
]
