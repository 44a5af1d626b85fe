"""The SMS backends of ``SMS_BACKEND`` (architecture.md §15) and what each outcome means for a retry.

- ``console`` (default): logs ``SMS to <number>: <text>`` on ``mallbots.sms``; always sent.
- ``webhook``: POSTs ``{"to": <number>, "text": <text>}`` as JSON to ``SMS_WEBHOOK_URL``; any 2xx is sent.

An outcome is ``SENT``; ``REFUSED`` when the gateway certainly did not take the SMS (no connection was made,
or it answered with a status other than 2xx), so sending again cannot make a duplicate; or ``UNKNOWN`` when
the request may have reached the gateway but no answer came (timeout or broken connection after connecting),
so sending again could text the customer twice (ADR 17).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from django.conf import settings

logger = logging.getLogger("mallbots.sms")

SENT, REFUSED, UNKNOWN = "sent", "refused", "unknown"
WEBHOOK_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Outcome:
    result: str
    detail: str = ""


def send(to: str, text: str) -> Outcome:
    """Send one SMS through the configured backend. Never raises for a gateway problem."""
    backend = settings.SMS_BACKEND
    if backend == "console":
        logger.info("SMS to %s: %s", to, text)
        return Outcome(SENT)
    if backend == "webhook":
        return _webhook(settings.SMS_WEBHOOK_URL, to, text)
    return Outcome(REFUSED, f"unknown SMS_BACKEND {backend!r} (console or webhook)")


def _webhook(url: str, to: str, text: str) -> Outcome:
    if not url:
        return Outcome(REFUSED, "SMS_WEBHOOK_URL is not set")
    try:
        response = httpx.post(url, json={"to": to, "text": text}, timeout=WEBHOOK_TIMEOUT_SECONDS)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        return Outcome(REFUSED, f"{type(exc).__name__}: {exc}")
    except httpx.HTTPError as exc:
        return Outcome(UNKNOWN, f"{type(exc).__name__}: {exc}")
    if 200 <= response.status_code < 300:
        return Outcome(SENT)
    return Outcome(REFUSED, f"HTTP {response.status_code}: {response.text[:200]}")
