"""The bot simulator (architecture.md §14): simulated bots that shop through the public HTTP API only.

Each bot is one asyncio task with its own bot token and HTTP client. It goes online, polls its record
every ``poll`` seconds and, once ``shoppingListId`` is set, reads the list, starts it, travels to each
stop (``travel`` seconds), picks each item (``pick`` seconds) in full or reports it unavailable (with
probability ``unavailable_rate``), travels back and completes the list. A 400 or 403 on its list (the
order was cancelled meanwhile) abandons the round. It resumes a list it finds already assigned or
active (after a restart). Connection errors and 5xx answers (the web tier restarting) are retried with
backoff; nothing ends a bot's loop but the ``stopping`` event: the bot then stops where it is (a list
under way stays active and is resumed by the next start) and goes offline if it is idle.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

import httpx

from eventstore.backoff import Backoff

logger = logging.getLogger("mallbots.bots")

MAX_RETRY_SECONDS = 10.0


@dataclass(frozen=True)
class Pacing:
    poll: float
    travel: float
    pick: float
    unavailable_rate: float


@dataclass(frozen=True)
class SimulatedBot:
    id: str
    name: str
    token: str


class Abandoned(Exception):
    """The list refused a step (400/403/404): the round ends, the bot goes back to polling."""


class Stopped(Exception):
    """The simulator is stopping: the bot leaves its loop where it is."""


def new_random() -> random.Random:
    """The source of a bot's "is this item unavailable?" draws."""
    return random.Random()


class BotLoop:
    def __init__(self, bot: SimulatedBot, base_url: str, pacing: Pacing, stopping: asyncio.Event) -> None:
        self.bot = bot
        self.pacing = pacing
        self.stopping = stopping
        self.rng = new_random()
        self.client = httpx.AsyncClient(base_url=base_url.rstrip("/") + "/api/depot",
                                        headers={"Authorization": f"Bearer {bot.token}"}, timeout=10.0)
        self.rounds = 0

    async def run(self) -> None:
        """Online, then poll and shop until stopped; then offline (refused while shopping: the list is resumed
        by the next start)."""
        try:
            await self.call("PUT", f"/bots/{self.bot.id}/online", {}, accept=(400,))
            logger.info("%s: online", self.bot.name)
            while True:
                record = (await self.call("GET", f"/bots/{self.bot.id}"))["bot"]
                if record["shoppingListId"]:
                    await self.shop(record["shoppingListId"])
                else:
                    await self.sleep(self.pacing.poll)
        except Stopped:
            pass
        try:
            answer = await self.call("PUT", f"/bots/{self.bot.id}/offline", {}, accept=(400,), retry=False)
            logger.info("%s: %s", self.bot.name, answer.get("message") or "offline")
        except Stopped:
            pass
        finally:
            await self.client.aclose()

    async def shop(self, list_id: str) -> None:
        """One round over the list; ``Abandoned`` (the list was cancelled) ends it early."""
        try:
            shopping_list = (await self.step("GET", f"/shopping/{list_id}"))["shoppingList"]
            if shopping_list["status"] == "assigned":
                await self.step("PUT", f"/shopping/{list_id}/start", {})
                logger.info("%s: started list %s", self.bot.name, list_id)
            for stop in shopping_list["stops"]:
                await self.sleep(self.pacing.travel)
                for item in stop["items"]:
                    await self.sleep(self.pacing.pick)
                    if self.rng.random() < self.pacing.unavailable_rate:
                        await self.step("PUT", f"/shopping/{list_id}/itemUnavailable",
                                        {"productId": item["productId"]})
                    else:
                        await self.step("PUT", f"/shopping/{list_id}/pickItem",
                                        {"productId": item["productId"], "quantity": item["quantity"]})
            await self.sleep(self.pacing.travel)
            await self.step("PUT", f"/shopping/{list_id}/complete", {})
            self.rounds += 1
            logger.info("%s: completed list %s", self.bot.name, list_id)
        except Abandoned as refused:
            logger.info("%s: abandoned list %s: %s", self.bot.name, list_id, refused)
            await self.sleep(self.pacing.poll)

    async def step(self, method: str, path: str, body: dict | None = None) -> dict:
        """A call on the bot's list: a 400/403/404 answer means the round is over."""
        answer = await self.call(method, path, body, accept=(400, 403, 404))
        if "code" in answer and "message" in answer and answer.get("code") in (3, 5, 7):
            raise Abandoned(answer["message"])
        return answer

    async def call(self, method: str, path: str, body: dict | None = None, *, accept: tuple[int, ...] = (),
                   retry: bool = True) -> dict:
        """The JSON answer of a 200 (or of an ``accept``-ed status). Connection errors, 5xx and other
        statuses are retried with backoff until the bot is stopped (then ``Stopped``)."""
        backoff = Backoff(MAX_RETRY_SECONDS, first=0.5)
        while True:
            try:
                response = await self.client.request(method, path, json=body)
                if response.status_code == 200 or response.status_code in accept:
                    return response.json()
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if not retry or self.stopping.is_set():
                raise Stopped
            delay = backoff.next()
            logger.warning("%s: %s %s failed (%s); retrying in %.1fs", self.bot.name, method, path, problem, delay)
            await self.sleep(delay)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (travel, picking, polling); ``Stopped`` as soon as the simulator stops."""
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=max(seconds, 0))
        except asyncio.TimeoutError:
            return
        raise Stopped


async def run_bots(bots: list[SimulatedBot], base_url: str, pacing: Pacing, stopping: asyncio.Event) -> int:
    """Run one loop per bot until ``stopping`` is set; returns the number of lists completed."""
    loops = [BotLoop(bot, base_url, pacing, stopping) for bot in bots]
    await asyncio.gather(*(loop.run() for loop in loops))
    return sum(loop.rounds for loop in loops)
