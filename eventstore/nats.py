"""NATS JetStream connection and the stream of events.md §1."""

from __future__ import annotations

import logging

import nats
from django.conf import settings
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

logger = logging.getLogger("mallbots.nats")

STREAM_SUBJECTS = ["mallbots.>"]


def servers() -> list[str]:
    return [url.strip() for url in settings.NATS_URL.split(",") if url.strip()]


async def connect(name: str = "mallbots", **options) -> nats.NATS:
    """A client that reconnects forever (the relay and consumers never exit because NATS is down)."""
    options.setdefault("max_reconnect_attempts", -1)
    options.setdefault("reconnect_time_wait", 0.5)
    options.setdefault("connect_timeout", 2)

    async def _error(exc: Exception) -> None:
        logger.warning("nats error: %s", exc)

    options.setdefault("error_cb", _error)
    return await nats.connect(servers=servers(), name=name, **options)


def stream_config() -> StreamConfig:
    return StreamConfig(
        name=settings.NATS_STREAM,
        subjects=STREAM_SUBJECTS,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        num_replicas=settings.NATS_STREAM_REPLICAS,
        duplicate_window=float(settings.NATS_DUPLICATE_WINDOW_SECONDS),
        max_age=float(settings.NATS_STREAM_MAX_AGE_DAYS * 86400),
    )


async def ensure_stream(js) -> None:
    """Create the stream, or update it to the configured settings."""
    config = stream_config()
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
        logger.info("created stream %s", config.name)
    else:
        await js.update_stream(config)
