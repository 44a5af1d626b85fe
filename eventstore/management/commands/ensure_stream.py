"""Create the JetStream stream of events.md §1, or update it to the configured settings."""

import asyncio

import nats.errors
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from eventstore import nats as mallbots_nats


async def _ensure(timeout: float) -> None:
    nc = await asyncio.wait_for(mallbots_nats.connect(name="mallbots-ensure-stream"), timeout)
    try:
        await asyncio.wait_for(mallbots_nats.ensure_stream(nc.jetstream()), timeout)
    finally:
        await nc.close()


class Command(BaseCommand):
    help = ("Create or update the stream NATS_STREAM (subjects mallbots.>, file storage, replicas, "
            "duplicate window and max age from settings).")

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for NATS")

    def handle(self, *args, timeout, **options):
        try:
            asyncio.run(_ensure(timeout))
        except (asyncio.TimeoutError, OSError, nats.errors.Error) as exc:
            raise CommandError(f"cannot ensure stream {settings.NATS_STREAM} at {settings.NATS_URL}: {exc!r}") from exc
        config = mallbots_nats.stream_config()
        self.stdout.write(f"stream {config.name}: subjects {', '.join(config.subjects)}, "
                          f"replicas {config.num_replicas}, duplicate window {config.duplicate_window:g}s")
