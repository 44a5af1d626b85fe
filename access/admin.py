"""API tokens admin (architecture.md §13), superusers only.

"Add" issues the token through ``tokens.issue_token`` and shows the raw token once, on the page that answers
the add form (never cached, never in a message: Django's cookie message storage would carry it in a signed,
not encrypted, cookie); only its prefix and hash are stored and the hash is never displayed. Tokens are not edited or deleted:
the action "revoke" sets ``revoked_at``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from access.models import ApiToken
from access.tokens import issue_token


class IssueTokenForm(forms.ModelForm):
    expires_days = forms.IntegerField(required=False, min_value=1, help_text="Leave empty for no expiry")

    class Meta:
        model = ApiToken
        fields = ("kind", "name", "user", "bot_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(is_active=True, is_staff=True)
        self.fields["user"].help_text = "Staff tokens: the staff user the token acts as"
        self.fields["bot_id"].help_text = "Bot tokens: the bot id"

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == ApiToken.KIOSK and not data.get("name"):
            self.add_error("name", "kiosk tokens need a name")
        if kind == ApiToken.STAFF and not data.get("user"):
            self.add_error("user", "staff tokens need a user")
        if kind == ApiToken.BOT and not data.get("bot_id"):
            self.add_error("bot_id", "bot tokens need a bot id")
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "kind", "subject", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("kind", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "name", "bot_id", "user__username")
    ordering = ("-created_at",)
    fields = ("prefix", "kind", "name", "user", "bot_id", "created_at", "expires_at", "revoked_at", "last_used_at")
    actions = ("revoke",)

    def _superuser(self, request) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request):
        return self._superuser(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser(request)

    def has_add_permission(self, request):
        return self._superuser(request)

    def has_revoke_permission(self, request):
        return self._superuser(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = IssueTokenForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("kind", "name", "user", "bot_id", "expires_days")
        return self.fields

    @admin.display(description="for")
    def subject(self, obj):
        return obj.subject

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        token, raw = issue_token(data["kind"], name=data.get("name") or "", user=data.get("user"),
                                 bot_id=data.get("bot_id") or "", expires_days=data.get("expires_days"))
        for field in token._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding = False
        obj.raw_token = raw

    def response_add(self, request, obj, post_url_continue=None):
        """The issued token's page: the raw token, shown this once, in the response body only."""
        context = {**self.admin_site.each_context(request), "opts": self.opts, "token": obj,
                   "raw_token": obj.raw_token, "title": f"New {obj.kind} token"}
        response = TemplateResponse(request, "admin/access/apitoken/issued.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Tokens revoked: {count}", messages.SUCCESS)
