"""Admin for customers (architecture.md §13): lists the read model, changes go through services.

Visible to the depot roles. A form's validation runs its command through ``customers.services`` (in
a savepoint, as the signed-in staff user); a refused command becomes a form error with the API's
text and nothing is kept. Enabling and disabling need ``depot_admin``, like the API.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.db import transaction
from django.db.models import TextField

from customers import models, services
from eventstore import context
from eventstore.errors import ConcurrencyError, DomainError, Forbidden, NotFound
from eventstore.history import EventHistoryMixin
from mallbots_site.auth import DEPOT_ADMIN, actor_of, has_role

REFUSALS = (DomainError, NotFound, ConcurrencyError, Forbidden)


class SmsNumberForm(forms.Form):
    sms_number = forms.CharField(label="New SMS number", required=False)


@admin.register(models.Customer)
class CustomerAdmin(EventHistoryMixin, admin.ModelAdmin):
    stream_type = "customers.Customer"
    list_display = ("name", "sms_number", "enabled", "id")
    list_filter = ("enabled",)
    search_fields = ("name", "sms_number", "id")
    actions = ("change_sms_number", "enable_customers", "disable_customers")
    domain_validated = ("name", "sms_number")
    formfield_overrides = {TextField: {"widget": forms.TextInput(attrs={"class": "vTextField"})}}

    def get_fields(self, request, obj=None):
        return ["name", "sms_number"] if obj is None else ["id", "name", "sms_number", "enabled", "version"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += ["id", "name", "version"]
            if not has_role(request.user, DEPOT_ADMIN):
                readonly.append("enabled")
        return readonly

    def has_delete_permission(self, request, obj=None):
        return False

    def has_depot_admin_permission(self, request) -> bool:
        return has_role(request.user, DEPOT_ADMIN)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """Text the domain validates is optional in the form, so the admin shows the API's error text."""
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in self.domain_validated:
            field.required = False
        return field

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        model_admin = self

        class CommandForm(form_class):
            def clean(self):
                cleaned = super().clean()
                if self.errors:
                    return cleaned
                try:
                    with context.use(context.current().with_actor(actor_of(request.user))), transaction.atomic():
                        new_id = model_admin.run_command(request, obj, self)
                except REFUSALS as refused:
                    raise forms.ValidationError(refused.message) from refused
                if obj is None:
                    self.instance.pk = new_id
                return cleaned

        return CommandForm

    def run_command(self, request, obj, form) -> str | None:
        """Register, or change the SMS number and (depot_admin) the enabled flag."""
        data = form.cleaned_data
        if obj is None:
            return services.register_customer(name=data["name"], sms_number=data["sms_number"])
        if "sms_number" in form.changed_data:
            services.change_sms_number(customer_id=obj.pk, sms_number=data["sms_number"])
        if "enabled" in form.changed_data:
            if not has_role(request.user, DEPOT_ADMIN):
                raise Forbidden()
            if data["enabled"]:
                services.enable_customer(customer_id=obj.pk)
            else:
                services.disable_customer(customer_id=obj.pk)
        return None

    def save_model(self, request, obj, form, change):
        """Nothing to write: the form's command already ran and its projection updated the row."""

    def save_related(self, request, form, formsets, change):
        """The read model has no related rows to save."""

    def _run_action(self, request, queryset, command, done: str) -> None:
        succeeded = 0
        with context.use(context.current().with_actor(actor_of(request.user))):
            for row in queryset:
                try:
                    command(customer_id=row.pk)
                    succeeded += 1
                except REFUSALS as refused:
                    self.message_user(request, f"{row}: {refused.message}", messages.ERROR)
        if succeeded:
            self.message_user(request, f"{done}: {succeeded}", messages.SUCCESS)

    @admin.action(description="Enable the selected customers", permissions=["depot_admin"])
    def enable_customers(self, request, queryset):
        self._run_action(request, queryset, services.enable_customer, "Customers enabled")

    @admin.action(description="Disable the selected customers", permissions=["depot_admin"])
    def disable_customers(self, request, queryset):
        self._run_action(request, queryset, services.disable_customer, "Customers disabled")

    @admin.action(description="Change the SMS number of the selected customer", permissions=["change"])
    def change_sms_number(self, request, queryset):
        """Intermediate page asking for the new number; runs ``change_sms_number`` on submit."""
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one customer to change its SMS number.", messages.WARNING)
            return None
        customer = queryset.get()
        form = SmsNumberForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                with context.use(context.current().with_actor(actor_of(request.user))):
                    services.change_sms_number(customer_id=customer.pk, sms_number=form.cleaned_data["sms_number"])
            except REFUSALS as refused:
                form.add_error("sms_number", refused.message)
            else:
                self.message_user(request, f"{customer}: SMS number changed", messages.SUCCESS)
                return None
        return TemplateResponse(request, "admin/customers/change_sms_number.html", {
            **self.admin_site.each_context(request), "title": "Change the SMS number", "opts": self.model._meta,
            "customer": customer, "form": form, "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        })
