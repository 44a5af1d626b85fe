"""Run the bot simulator (architecture.md §14) until SIGTERM/SIGINT; see ``depot.simulator``."""

from __future__ import annotations

import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from access.tokens import issue_token, revoke_bot_tokens
from depot import services
from depot.models import Bot
from depot.simulator import Pacing, SimulatedBot, run_bots
from eventstore import loop

NAME_PREFIX = "sim-bot-"


def ensure_bots(count: int) -> list[SimulatedBot]:
    """Bots ``sim-bot-1 … N`` (registered when missing, through the depot's service), each with a fresh
    bot token; the simulator's earlier tokens of those bots are revoked."""
    bots = []
    for n in range(1, count + 1):
        name = f"{NAME_PREFIX}{n}"
        bot_id = Bot.objects.filter(name=name).order_by("created_at").values_list("id", flat=True).first()
        if bot_id is None:
            bot_id = services.register_bot(name=name)
        revoke_bot_tokens(bot_id, name="simulator")
        _, raw = issue_token("bot", name="simulator", bot_id=bot_id)
        bots.append(SimulatedBot(id=bot_id, name=name, token=raw))
    return bots


class Command(BaseCommand):
    help = "Simulated bots that go online, take their shopping lists and shop them over the HTTP API."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=settings.BOT_SIM_COUNT)
        parser.add_argument("--base-url", default=settings.BOT_SIM_BASE_URL)

    def handle(self, *args, count, base_url, **options):
        bots = ensure_bots(count)
        pacing = Pacing(poll=settings.BOT_SIM_POLL_SECONDS, travel=settings.BOT_SIM_TRAVEL_SECONDS,
                        pick=settings.BOT_SIM_PICK_SECONDS, unavailable_rate=settings.BOT_SIM_UNAVAILABLE_RATE)
        self.stdout.write(f"{len(bots)} simulated bot(s) on {base_url}: {', '.join(b.name for b in bots)}")
        loop.run(self._run(bots, base_url, pacing))

    async def _run(self, bots, base_url, pacing) -> None:
        stopping = asyncio.Event()
        running = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            running.add_signal_handler(sig, stopping.set)
        completed = await run_bots(bots, base_url, pacing, stopping)
        self.stdout.write(f"bots stopped after {completed} completed list(s)")
