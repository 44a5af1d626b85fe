"""API tokens: only a SHA-256 hash and a 12-character prefix are stored.

The table keeps the name it had when the model lived in ``mallbots_site`` (architecture.md §11, ADR 14).
"""

from django.conf import settings
from django.db import models

from access import principals


class ApiToken(models.Model):
    KIOSK, STAFF, BOT = principals.KIOSK, principals.STAFF, principals.BOT
    KINDS = [(KIOSK, "kiosk"), (STAFF, "staff"), (BOT, "bot")]

    kind = models.CharField(max_length=10, choices=KINDS)
    name = models.CharField(max_length=100, blank=True, default="", help_text="Kiosk device name")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    bot_id = models.CharField(max_length=64, blank=True, default="")
    prefix = models.CharField(max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "mallbots_site_apitoken"
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.kind} {self.prefix}…"

    @property
    def subject(self) -> str:
        if self.kind == self.STAFF:
            return self.user.get_username() if self.user else ""
        return self.bot_id if self.kind == self.BOT else self.name
