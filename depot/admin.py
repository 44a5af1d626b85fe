"""Admin for shopping lists and bots (architecture.md §13): read-only lists of the read models for depot
roles (``DepotConfig.staff_roles``) with bot names and links to the order and bot, each aggregate's event
history, and actions through ``depot.services`` with the API's access levels: initiate, assign (choose
bot) and cancel lists (DepotStaff); register bots, bring them online or take them offline (DepotAdmin)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import OuterRef, Subquery

from access.principals import DEPOT_ADMIN, DEPOT_STAFF, has_role
from depot import domain, models, services
from eventstore import codec
from web.admin_commands import CommandAdmin, ReadModelAdmin, admin_link
from web.rest import NAME_MAX_LENGTH


class AssignForm(ActionForm):
    """The action bar of the shopping-list page: the bot for "assign (choose bot)"."""

    bot = forms.ModelChoiceField(queryset=models.Bot.objects.filter(status=domain.IDLE), required=False,
                                 label="Bot", empty_label="(choose an idle bot)")


@admin.register(models.ShoppingList)
class ShoppingListAdmin(ReadModelAdmin):
    stream_type = "depot.ShoppingList"
    list_display = ("id", "order_link", "status", "bot_name", "item_count", "created_at")
    list_filter = ("status",)
    search_fields = ("id", "order_id", "assigned_bot_id")
    fields = ("id", "order_link", "status", "bot_link", "items", "version", "created_at", "updated_at")
    readonly_fields = ("items", "order_link", "bot_link")
    actions = ("initiate_lists", "assign_lists", "cancel_lists")
    action_form = AssignForm

    def get_queryset(self, request):
        names = models.Bot.objects.filter(pk=OuterRef("assigned_bot_id")).values("name")[:1]
        return super().get_queryset(request).annotate(bot_name=Subquery(names))

    @admin.display(description="Bot", ordering="bot_name")
    def bot_name(self, obj) -> str:
        return obj.bot_name or obj.assigned_bot_id

    @admin.display(description="Bot")
    def bot_link(self, obj) -> str:
        return admin_link("depot", "bot", obj.assigned_bot_id, obj.bot_name or "")

    @admin.display(description="Order")
    def order_link(self, obj) -> str:
        return admin_link("ordering", "order", obj.order_id)


    def has_depot_staff_permission(self, request) -> bool:
        """Same access level as ``PUT …/initiate`` and ``DELETE /api/depot/shopping/{id}`` (DepotStaff)."""
        return has_role(request.user, DEPOT_STAFF, DEPOT_ADMIN)

    @admin.display(description="Items")
    def item_count(self, obj) -> int:
        return sum(len(stop["items"]) for stop in obj.stops)

    @admin.display(description="Stops and items")
    def items(self, obj) -> str:
        return codec.dumps(obj.stops)

    @admin.action(description="Initiate the selected shopping lists", permissions=["depot_staff"])
    def initiate_lists(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.initiate_shopping(list_id=row.pk),
                        "Shopping lists initiated")

    @admin.action(description="Assign the selected shopping list to the chosen bot", permissions=["depot_staff"])
    def assign_lists(self, request, queryset):
        bot = models.Bot.objects.filter(pk=request.POST.get("bot") or None).first()
        if bot is None:
            self.message_user(request, "Choose an idle bot next to the action", messages.ERROR)
            return
        self.run_action(request, queryset[:1], lambda row: services.assign_shopping_list(list_id=row.pk, bot_id=bot.pk),
                        f"Shopping list assigned to {bot.name}")

    @admin.action(description="Cancel the selected shopping lists", permissions=["depot_staff"])
    def cancel_lists(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.cancel_shopping_list(list_id=row.pk),
                        "Shopping lists canceled")


@admin.register(models.Bot)
class BotAdmin(CommandAdmin):
    """Bots: registering (the add form) and online/offline need ``depot_admin``, like the API."""

    stream_type = "depot.Bot"
    list_display = ("name", "status", "shopping_list_link", "available_since", "id")
    list_filter = ("status",)
    search_fields = ("name", "id", "shopping_list_id")
    actions = ("bring_online", "take_offline")
    domain_validated = ("name",)
    max_lengths = {"name": NAME_MAX_LENGTH}

    def get_fields(self, request, obj=None):
        return ["name"] if obj is None else ["id", "name", "status", "shopping_list_link", "available_since",
                                             "version", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    @admin.display(description="Shopping list")
    def shopping_list_link(self, obj) -> str:
        return admin_link("depot", "shoppinglist", obj.shopping_list_id)

    def has_add_permission(self, request):
        return has_role(request.user, DEPOT_ADMIN)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_depot_admin_permission(self, request) -> bool:
        """Same access level as ``POST /api/depot/bots`` and ``PUT …/online|offline`` for staff (DepotAdmin)."""
        return has_role(request.user, DEPOT_ADMIN)

    def run_command(self, request, obj, form) -> str | None:
        return services.register_bot(name=form.cleaned_data["name"])

    @admin.action(description="Bring the selected bots online", permissions=["depot_admin"])
    def bring_online(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.bot_online(bot_id=row.pk), "Bots online")

    @admin.action(description="Take the selected bots offline", permissions=["depot_admin"])
    def take_offline(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.bot_offline(bot_id=row.pk), "Bots offline")
