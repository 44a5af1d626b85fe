"""Content negotiation for an API that renders JSON only.

A request that accepts JSON plainly (no ``Accept``, ``*/*`` or ``application/json``, no ``?format=`` and no
format suffix) gets the first renderer at once; anything else goes through DRF's full negotiation, so an
unusual ``Accept`` is matched or refused (406) exactly as before. The kiosk and bot clients send one of the
plain forms on every request, where parsing the header and matching media types was ~2 % of a web worker's
CPU (ADR 28).
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

PLAIN_ACCEPT = frozenset({"", "*/*", "application/json"})


class JsonFirst(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        meta = request.META
        if not format_suffix and not meta.get("QUERY_STRING") and meta.get("HTTP_ACCEPT", "").strip() in PLAIN_ACCEPT:
            renderer = renderers[0]
            if renderer.media_type == "application/json":
                return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)
