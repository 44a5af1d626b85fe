"""Stopping a consumer runner interrupts the durables' idle pulls instead of waiting for them to expire."""

import asyncio
from types import SimpleNamespace

from eventstore import consumers, messaging


class LingeringPull:
    """A pull subscription whose pull the server never answers within the test."""

    def __init__(self) -> None:
        self.pulling = asyncio.Event()
        self.pulls = 0

    async def fetch(self, batch, timeout):
        self.pulls += 1
        self.pulling.set()
        await asyncio.sleep(3600)


def test_stop_cancels_the_idle_pull_and_the_worker_ends_without_error():
    async def scenario():
        runner = consumers.Runner([])
        runner.client = SimpleNamespace(is_connected=True)
        worker = consumers.DurableWorker(runner, messaging.durables()[0])
        worker.subscription = subscription = LingeringPull()
        runner.workers = [worker]
        worker.task = asyncio.create_task(worker.run())
        await subscription.pulling.wait()
        runner.stop()
        await asyncio.wait_for(worker.task, timeout=30)
        return worker.task, subscription.pulls

    task, pulls = asyncio.run(scenario())
    assert not task.cancelled() and task.exception() is None and pulls == 1


def test_stop_leaves_a_worker_that_is_handling_a_batch_alone():
    worker = consumers.DurableWorker(consumers.Runner([]), messaging.durables()[0])
    worker.task = SimpleNamespace(cancel=lambda: (_ for _ in ()).throw(AssertionError("cancelled while handling")))
    worker.waiting = False
    worker.interrupt()
