"""Kernel admin (architecture.md §13): events, snapshots, outbox, inbox, applied versions, checkpoints, dead
letters and sagas, superusers only.

Every table is read-only here. The only writes are the operator actions: "republish" (clear the outbox
row's ``published_at`` and dead-letter mark so the relay sends it again), "retry" for outbox rows the relay
dead-lettered (ADR 20), "replay" and "discard" for dead letters (the same code as
``manage.py replay_dead_letters``) and "retry current step" for saga instances.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q
from django.utils.html import format_html

from eventstore import codec, context, deadletters
from eventstore.errors import ConcurrencyError, DomainError, NotFound
from eventstore.models import (AppliedVersion, Checkpoint, DeadLetter, InboxMessage, OutboxMessage, SagaInstance,
                               Snapshot, StoredEvent)


def pretty_json(value) -> str:
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
                       json.dumps(json.loads(codec.dumps(value)), indent=2, sort_keys=True))


class KernelAdmin(admin.ModelAdmin):
    """Superusers only; no add, change or delete (operator actions use ``has_operate_permission``)."""

    show_full_result_count = False
    list_per_page = 50

    def _superuser(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)

    def has_module_permission(self, request):
        return self._superuser(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser(request)

    def has_operate_permission(self, request):
        return self._superuser(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MessageJsonAdmin(KernelAdmin):
    """A kernel table with a message's ``payload`` and ``metadata``, shown as indented JSON on its page."""

    readonly_fields = ("payload_json", "metadata_json")

    @admin.display(description="payload")
    def payload_json(self, obj):
        return pretty_json(obj.payload)

    @admin.display(description="metadata")
    def metadata_json(self, obj):
        return pretty_json(obj.metadata)


@admin.register(StoredEvent)
class StoredEventAdmin(MessageJsonAdmin):
    list_display = ("global_position", "stream_type", "stream_id", "version", "event_name", "event_version",
                    "occurred_at")
    list_filter = ("stream_type", "event_name")
    search_fields = ("=stream_id",)
    ordering = ("-global_position",)
    fields = ("global_position", "event_id", "stream_type", "stream_id", "version", "event_name",
              "event_version", "occurred_at", "payload_json", "metadata_json")


@admin.register(Snapshot)
class SnapshotAdmin(KernelAdmin):
    list_display = ("stream_type", "stream_id", "version", "snapshot_name", "created_at")
    list_filter = ("stream_type", "snapshot_name")
    search_fields = ("=stream_id",)
    ordering = ("stream_type", "stream_id")
    fields = ("stream_type", "stream_id", "version", "snapshot_name", "created_at", "state_json")
    readonly_fields = ("state_json",)

    @admin.display(description="state")
    def state_json(self, obj):
        return pretty_json(obj.state)


class StatusFilter(admin.SimpleListFilter):
    """A "status" filter whose choices are ``statuses``: value → (label, the rows' condition)."""

    title = "status"
    parameter_name = "status"
    statuses: dict[str, tuple[str, Q]] = {}

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.statuses.items()]

    def queryset(self, request, queryset):
        chosen = self.statuses.get(self.value())
        return queryset.filter(chosen[1]) if chosen else queryset


class OutboxStatusFilter(StatusFilter):
    statuses = {
        "pending": ("to publish", Q(published_at__isnull=True, dead_lettered_at__isnull=True)),
        "published": ("published", Q(published_at__isnull=False)),
        "dead-lettered": ("dead-lettered", Q(dead_lettered_at__isnull=False)),
    }


@admin.register(OutboxMessage)
class OutboxAdmin(MessageJsonAdmin):
    list_display = ("position", "name", "subject", "message_id", "sent_at", "published_at", "attempts",
                    "dead_lettered_at")
    list_filter = (OutboxStatusFilter, ("published_at", admin.EmptyFieldListFilter), "subject", "name")
    search_fields = ("=message_id",)
    ordering = ("-position",)
    fields = ("position", "message_id", "name", "subject", "sent_at", "published_at", "attempts",
              "dead_lettered_at", "last_error", "payload_json", "metadata_json")
    actions = ("republish", "retry")

    @admin.action(description="Republish the selected messages (the relay sends them again)",
                  permissions=["operate"])
    def republish(self, request, queryset):
        with transaction.atomic():
            count = OutboxMessage.objects.filter(pk__in=queryset.values("pk")).update(published_at=None,
                                                                                      dead_lettered_at=None)
        self.message_user(request, f"Messages queued for republishing: {count}", messages.SUCCESS)

    @admin.action(description="Retry the selected dead-lettered messages (after raising the server's limit)",
                  permissions=["operate"])
    def retry(self, request, queryset):
        with transaction.atomic():
            count = OutboxMessage.objects.filter(pk__in=queryset.values("pk"), dead_lettered_at__isnull=False,
                                                 published_at__isnull=True).update(dead_lettered_at=None)
        self.message_user(request, f"Dead-lettered messages queued for another attempt: {count}", messages.SUCCESS)


@admin.register(InboxMessage)
class InboxAdmin(MessageJsonAdmin):
    list_display = ("consumer", "name", "message_id", "sent_at", "received_at")
    list_filter = ("consumer", "name")
    search_fields = ("=message_id",)
    ordering = ("-received_at",)
    fields = ("consumer", "message_id", "name", "subject", "sent_at", "received_at", "payload_json",
              "metadata_json")


@admin.register(AppliedVersion)
class AppliedVersionAdmin(KernelAdmin):
    list_display = ("scope", "stream_type", "stream_id", "version", "updated_at")
    list_filter = ("scope", "stream_type")
    search_fields = ("=stream_id",)
    ordering = ("-updated_at",)


@admin.register(Checkpoint)
class CheckpointAdmin(KernelAdmin):
    list_display = ("name", "position", "updated_at")
    ordering = ("name",)


class DeadLetterStatusFilter(StatusFilter):
    statuses = {
        "pending": ("pending", Q(replayed_at__isnull=True, discarded_at__isnull=True)),
        "replayed": ("replayed", Q(replayed_at__isnull=False)),
        "discarded": ("discarded", Q(discarded_at__isnull=False)),
    }


@admin.register(DeadLetter)
class DeadLetterAdmin(MessageJsonAdmin):
    list_display = ("id", "consumer", "name", "message_id", "deliveries", "error_summary", "created_at",
                    "replayed_at", "replay_count", "discarded_at")
    list_filter = (DeadLetterStatusFilter, "consumer", "name")
    search_fields = ("=message_id",)
    ordering = ("-id",)
    fields = ("id", "consumer", "message_id", "name", "subject", "sent_at", "deliveries", "created_at",
              "replayed_at", "replay_count", "discarded_at", "error_summary", "error_traceback", "payload_json",
              "metadata_json", "raw")
    readonly_fields = ("error_summary", "error_traceback", *MessageJsonAdmin.readonly_fields)
    actions = ("replay", "discard")

    @admin.display(description="error")
    def error_summary(self, obj):
        error = obj.error or {}
        return f"{error.get('type', '')}: {error.get('text', '')}"[:200]

    @admin.display(description="traceback")
    def error_traceback(self, obj):
        return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
                           (obj.error or {}).get("traceback", ""))

    @admin.action(description="Replay the selected dead letters through their consumer", permissions=["operate"])
    def replay(self, request, queryset):
        replayed = 0
        for row in queryset.order_by("pk"):
            if deadletters.replay(row):
                replayed += 1
            else:
                self.message_user(request, f"Dead letter {row.pk} ({row.consumer} {row.name}) failed again: "
                                           f"{self.error_summary(row)}", messages.ERROR)
        if replayed:
            self.message_user(request, f"Dead letters replayed: {replayed}", messages.SUCCESS)

    @admin.action(description="Discard the selected dead letters", permissions=["operate"])
    def discard(self, request, queryset):
        count = 0
        for row in queryset:
            deadletters.discard(row)
            count += 1
        self.message_user(request, f"Dead letters discarded: {count}", messages.SUCCESS)


@admin.register(SagaInstance)
class SagaInstanceAdmin(KernelAdmin):
    list_display = ("saga_name", "saga_id", "status", "step", "compensating", "resends", "step_sent_at",
                    "updated_at")
    list_filter = ("saga_name", "status", "compensating")
    search_fields = ("=saga_id",)
    ordering = ("-updated_at",)
    fields = ("saga_name", "saga_id", "status", "step", "compensating", "resends", "step_sent_at", "version",
              "last_error", "created_at", "updated_at", "data_json")
    readonly_fields = ("data_json",)
    actions = ("retry_current_step",)

    @admin.display(description="data")
    def data_json(self, obj):
        return pretty_json(obj.data)

    @admin.action(description="Retry the current step (send its command again)", permissions=["operate"])
    def retry_current_step(self, request, queryset):
        from eventstore.sagas import retry_current_step

        retried = 0
        operator = context.current().with_actor(f"staff:{request.user.get_username()}")
        for row in queryset:
            try:
                with context.use(operator):
                    retry_current_step(row)
                retried += 1
            except (DomainError, NotFound, ConcurrencyError) as refused:
                self.message_user(request, f"{row.saga_name} {row.saga_id}: {refused.message}", messages.ERROR)
        if retried:
            self.message_user(request, f"Saga steps sent again: {retried}", messages.SUCCESS)
