"""Admin bases for read models whose changes go through domain services (architecture.md §13).

Saving never writes a read-model row: the projections already did. ``ReadModelAdmin`` runs actions
through the services (``run_action``); ``CommandAdmin`` also runs its forms' commands. A refused
command becomes a form error or message with the API's text, and changes act as the signed-in user.

Who sees a module's admin follows its ``AppConfig.staff_roles`` (the roles ``setup_roles`` grants the app's
model permissions): a module admin declares nothing about roles. Names from other modules are looked up
once per changelist page (``page_lookups``) through their ``public`` facades.
"""

from __future__ import annotations

from typing import Callable, Iterable

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.core.validators import MaxLengthValidator
from django.db import transaction
from django.db.models import TextField
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from access.principals import acting_as, has_role
from eventstore.errors import ConcurrencyError, DomainError, Forbidden, NotFound
from eventstore.history import EventHistoryMixin

REFUSALS = (DomainError, NotFound, ConcurrencyError, Forbidden)


def admin_link(app_label: str, model_name: str, pk: str, text: str = "") -> str:
    """A link to the admin change page of ``app_label.model_name`` ``pk`` (empty for no ``pk``)."""
    if not pk:
        return ""
    try:
        url = reverse(f"admin:{app_label}_{model_name}_change", args=[pk])
    except NoReverseMatch:
        return text or pk
    return format_html('<a href="{}">{}</a>', url, text or pk)


class ReadModelAdmin(EventHistoryMixin, admin.ModelAdmin):
    """Base for read-model admins: visible to the module's ``staff_roles`` (superusers: all), the aggregate's
    event history on change pages (``stream_type``), ``run_action`` for actions that call the module's
    services and ``page_lookups`` for names kept by other modules.

    ``page_lookups = {"customer_name": ("customer_id", customers.public.customer_names)}`` sets
    ``row.customer_name`` on each row of a changelist page from one call per page (no query per row).
    """

    page_lookups: dict[str, tuple[str, Callable[[Iterable[str]], dict[str, str]]]] = {}

    def staff_roles(self) -> tuple[str, ...]:
        return tuple(getattr(apps.get_app_config(self.opts.app_label), "staff_roles", ()))

    def admits(self, request) -> bool:
        """An active staff user with one of the module's roles (a superuser has every role)."""
        user = request.user
        return bool(user.is_active and user.is_staff and has_role(user, *self.staff_roles()))

    def has_module_permission(self, request):
        return self.admits(request)

    def has_view_permission(self, request, obj=None):
        return self.admits(request)

    def has_add_permission(self, request, *args):
        """Read models are never added, changed or deleted here (``CommandAdmin`` runs commands instead)."""
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        for attribute, (field, lookup) in self.page_lookups.items():
            names = lookup({getattr(row, field) for row in rows if getattr(row, field)})
            for row in rows:
                setattr(row, attribute, names.get(getattr(row, field), ""))
        return changelist

    def run_action(self, request, queryset, command, done: str) -> None:
        """Run ``command(row)`` per selected row, each in its own transaction, as the signed-in user;
        report each refusal and the number of rows done."""
        succeeded = 0
        with acting_as(request.user):
            for row in queryset:
                try:
                    command(row)
                    succeeded += 1
                except REFUSALS as refused:
                    self.message_user(request, f"{row}: {refused.message}", messages.ERROR)
        if succeeded:
            self.message_user(request, f"{done}: {succeeded}", messages.SUCCESS)


class CommandAdmin(ReadModelAdmin):
    """Base for admins whose forms run domain commands instead of saving rows.

    Subclasses define ``run_command(request, obj, form) -> str | None``: run the command(s) for a valid
    form and return the new aggregate id when adding. The form's validation runs it in a savepoint;
    a refusal becomes a form error and nothing is kept.
    """

    domain_validated: tuple[str, ...] = ()
    max_lengths: dict[str, int] = {}
    formfield_overrides = {TextField: {"widget": forms.TextInput(attrs={"class": "vTextField"})}}

    def has_add_permission(self, request, *args):
        return self.admits(request) and admin.ModelAdmin.has_add_permission(self, request, *args)

    def has_change_permission(self, request, obj=None):
        return self.admits(request) and admin.ModelAdmin.has_change_permission(self, request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.admits(request) and admin.ModelAdmin.has_delete_permission(self, request, obj)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """Text the domain validates is optional in the form, so the admin shows the API's error text; text
        the API bounds (``max_lengths``, ADR 20) is bounded the same way here."""
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in self.domain_validated:
            field.required = False
        if field is not None and db_field.name in self.max_lengths:
            field.max_length = self.max_lengths[db_field.name]
            field.validators.append(MaxLengthValidator(field.max_length))
            field.widget.attrs["maxlength"] = str(field.max_length)
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
                    with acting_as(request.user), transaction.atomic():
                        new_id = model_admin.run_command(request, obj, self)
                except REFUSALS as refused:
                    raise forms.ValidationError(refused.message) from refused
                if obj is None:
                    self.instance.pk = new_id
                return cleaned

        return CommandForm

    def save_model(self, request, obj, form, change):
        """Nothing to write: the form's command already ran and its projections updated the row."""

    def save_related(self, request, form, formsets, change):
        """Read models have no related rows to save."""
