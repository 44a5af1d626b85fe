"""Read-only "Event history" for Django admin change pages (architecture.md §13).

Mix ``EventHistoryMixin`` into a ``ModelAdmin`` over a read model whose primary key is the aggregate
id and set ``stream_type`` (e.g. ``"stores.Store"``). The change page then ends with a table of the
stream's stored events: version, event name, occurred at, actor and payload.
"""

from __future__ import annotations

from django.contrib import admin
from django.template.loader import render_to_string

from eventstore import codec
from eventstore.models import StoredEvent

HISTORY_FIELD = "event_history"


def stream_history(stream_type: str, stream_id: str) -> list[dict]:
    """The stored events of one stream in version order, ready for display."""
    rows = StoredEvent.objects.filter(stream_type=stream_type, stream_id=stream_id).order_by("version")
    return [
        {
            "version": row.version,
            "name": row.event_name,
            "occurred_at": codec.format_timestamp(row.occurred_at),
            "actor": (row.metadata or {}).get("actor", ""),
            "payload": codec.dumps(row.payload),
        }
        for row in rows
    ]


class EventHistoryMixin:
    """Adds the read-only ``event_history`` section to change pages (not to add pages)."""

    stream_type: str = ""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, HISTORY_FIELD] if obj is not None and HISTORY_FIELD not in fields else fields

    def get_fields(self, request, obj=None):
        return [field for field in super().get_fields(request, obj) if field != HISTORY_FIELD]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(name, {**options, "fields": [f for f in options["fields"] if f != HISTORY_FIELD]})
                     for name, options in super().get_fieldsets(request, obj)]
        if obj is not None:
            fieldsets.append(("Event history", {"fields": [HISTORY_FIELD], "classes": ["event-history"]}))
        return fieldsets

    @admin.display(description="Events")
    def event_history(self, obj) -> str:
        return render_to_string("admin/eventstore/event_history.html",
                                {"events": stream_history(self.stream_type, str(obj.pk))})
