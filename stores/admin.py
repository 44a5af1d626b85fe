"""Admin for stores and products (architecture.md §13): lists the read models, changes go through services.

A form's validation runs its command through ``stores.services`` (in a savepoint, as the signed-in
staff user); a refused command becomes a form error with the API's text and nothing is kept.
``save_model`` and ``delete_model`` never write the read-model rows themselves.

Store staff see and change only the stores they are members of and those stores' products (a change page
of another store is 403 ``permission denied``, as in the API); store admins see and change every store and
manage the memberships ("Store members").
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery

from access.principals import STORE_ADMIN, has_role
from eventstore.errors import Forbidden
from stores import models, services
from stores.domain import SKU_MAX_LENGTH
from web.admin_commands import CommandAdmin
from web.rest import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH


def member(request) -> int | None:
    """Whose memberships limit what the signed-in user sees and changes: ``None`` for store admins."""
    return None if has_role(request.user, STORE_ADMIN) else request.user.pk


def member_store_ids(request):
    return models.StoreMember.objects.filter(user_id=request.user.pk).values("store_id")


class MembershipScoped:
    """Lists only the member stores' rows of store staff; a change page of another store's row is a 403
    (the row is found first, like the API's 404 before 403). ``store_field`` names the row's store id."""

    store_field = "pk"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if member(request) is None or getattr(request, "_mallbots_unscoped", False):
            return rows
        return rows.filter(**{f"{self.store_field}__in": member_store_ids(request)})

    def get_object(self, request, object_id, from_field=None):
        request._mallbots_unscoped = True
        try:
            return super().get_object(request, object_id, from_field)
        finally:
            request._mallbots_unscoped = False

    def is_member(self, request, obj) -> bool:
        restricted = member(request)
        return obj is None or restricted is None or models.StoreMember.objects.filter(
            store_id=getattr(obj, self.store_field), user_id=restricted).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.is_member(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.is_member(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.is_member(request, obj)


@admin.register(models.Store)
class StoreAdmin(MembershipScoped, CommandAdmin):
    stream_type = "stores.Store"
    domain_validated = ("name", "location")
    max_lengths = {"name": NAME_MAX_LENGTH, "location": NAME_MAX_LENGTH}
    list_display = ("name", "location", "participating", "id")
    list_filter = ("participating",)
    search_fields = ("name", "location", "id")
    actions = ("enable_participation", "disable_participation")

    def get_fields(self, request, obj=None):
        return ["name", "location"] if obj is None else ["id", "name", "location", "participating", "version"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += ["id", "location", "version"]
            if not has_role(request.user, STORE_ADMIN):
                readonly.append("participating")
        return readonly

    def has_delete_permission(self, request, obj=None):
        return False

    def has_store_admin_permission(self, request) -> bool:
        return has_role(request.user, STORE_ADMIN)

    def run_command(self, request, obj, form):
        data = form.cleaned_data
        if obj is None:
            return services.create_store(name=data["name"], location=data["location"], creator=request.user.pk)
        if "name" in form.changed_data:
            services.rebrand_store(store_id=obj.pk, name=data["name"], member=member(request))
        if "participating" in form.changed_data:
            if not has_role(request.user, STORE_ADMIN):
                raise Forbidden()
            if data["participating"]:
                services.enable_participation(store_id=obj.pk)
            else:
                services.disable_participation(store_id=obj.pk)
        return None

    @admin.action(description="Enable participation of the selected stores", permissions=["store_admin"])
    def enable_participation(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.enable_participation(store_id=row.pk),
                        "Participation enabled")

    @admin.action(description="Disable participation of the selected stores", permissions=["store_admin"])
    def disable_participation(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.disable_participation(store_id=row.pk),
                        "Participation disabled")


class ProductAddForm(forms.ModelForm):
    store_id = forms.ChoiceField(label="Store")
    stores = models.Store.objects

    class Meta:
        model = models.Product
        fields = ["store_id", "name", "description", "sku", "price"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store_id"].choices = [("", "---------")] + [
            (store.pk, f"{store.name} ({store.location})") for store in self.stores.order_by("name")
        ]


@admin.register(models.Product)
class ProductAdmin(MembershipScoped, CommandAdmin):
    stream_type = "stores.Product"
    store_field = "store_id"
    domain_validated = ("name",)
    max_lengths = {"name": NAME_MAX_LENGTH, "description": DESCRIPTION_MAX_LENGTH, "sku": SKU_MAX_LENGTH}
    list_display = ("name", "store_name", "sku", "price", "removed", "id")
    list_filter = ("removed",)
    search_fields = ("name", "sku", "id", "store_id")
    actions = ("remove_products",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            restricted = member(request)
            kwargs["form"] = type("ProductAddForm", (ProductAddForm,), {
                "stores": models.Store.objects if restricted is None else
                models.Store.objects.filter(pk__in=member_store_ids(request))})
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["store_id", "name", "description", "sku", "price"]
        return ["id", "store_id", "name", "description", "sku", "price", "removed", "version"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += ["id", "store_id", "sku", "removed", "version"]
        return readonly

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj is not None and obj.removed)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.removed)

    @admin.display(description="Store", ordering="store_name")
    def store_name(self, obj) -> str:
        return getattr(obj, "store_name", None) or obj.store_id

    def get_queryset(self, request):
        store_names = models.Store.objects.filter(pk=OuterRef("store_id")).values("name")[:1]
        return super().get_queryset(request).annotate(store_name=Subquery(store_names))

    def run_command(self, request, obj, form):
        data = form.cleaned_data
        if obj is None:
            return services.add_product(store_id=data["store_id"], name=data["name"],
                                        description=data["description"], sku=data["sku"], price=data["price"],
                                        member=member(request))
        if {"name", "description"} & set(form.changed_data):
            services.rebrand_product(product_id=obj.pk, name=data["name"], description=data["description"],
                                     member=member(request))
        if "price" in form.changed_data:
            change = (services.increase_product_price if data["price"] > form.initial["price"]
                      else services.decrease_product_price)
            change(product_id=obj.pk, price=data["price"], member=member(request))
        return None

    def delete_model(self, request, obj):
        """Deleting a product removes it from the catalog (ProductRemoved); the row stays as a tombstone."""
        self.run_action(request, [obj], lambda row: services.remove_product(product_id=row.pk, member=member(request)),
                        "Removed")

    def delete_queryset(self, request, queryset):
        self.remove_products(request, queryset)

    @admin.action(description="Remove the selected products from the catalog", permissions=["delete"])
    def remove_products(self, request, queryset):
        self.run_action(request, queryset.filter(removed=False),
                        lambda row: services.remove_product(product_id=row.pk, member=member(request)),
                        "Products removed")


@admin.register(models.StoreMember)
class StoreMemberAdmin(admin.ModelAdmin):
    """Who keeps which store's catalog: store admins add and remove members; store staff see their own."""

    list_display = ("store", "user", "created_at")
    list_filter = ("store",)
    search_fields = ("store__name", "user__username")
    fields = ("store", "user")

    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("store", "user")
        return rows if member(request) is None else rows.filter(user_id=request.user.pk)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and member(request) is None

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and member(request) is None
