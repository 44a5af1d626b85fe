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

from access.principals import DEPOT_ADMIN, acting_as, has_role
from customers import models, services
from customers.domain import SMS_NUMBER_MAX_LENGTH
from eventstore.errors import Forbidden
from web.admin_commands import REFUSALS, CommandAdmin
from web.rest import NAME_MAX_LENGTH


class SmsNumberForm(forms.Form):
    sms_number = forms.CharField(label="New SMS number", required=False, max_length=SMS_NUMBER_MAX_LENGTH)


@admin.register(models.Customer)
class CustomerAdmin(CommandAdmin):
    stream_type = "customers.Customer"
    list_display = ("name", "sms_number", "enabled", "id")
    list_filter = ("enabled",)
    search_fields = ("name", "sms_number", "id")
    actions = ("change_sms_number", "enable_customers", "disable_customers")
    domain_validated = ("name", "sms_number")
    max_lengths = {"name": NAME_MAX_LENGTH, "sms_number": SMS_NUMBER_MAX_LENGTH}

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

    @admin.action(description="Enable the selected customers", permissions=["depot_admin"])
    def enable_customers(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.enable_customer(customer_id=row.pk), "Customers enabled")

    @admin.action(description="Disable the selected customers", permissions=["depot_admin"])
    def disable_customers(self, request, queryset):
        self.run_action(request, queryset, lambda row: services.disable_customer(customer_id=row.pk), "Customers disabled")

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
                with acting_as(request.user):
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
