"""Committed aggregate states kept in process memory: an in-memory snapshot per stream (ADR 12).

The repository puts an entry after a save commits and, on the next load, reads only the events from
the cached version on. An entry proves itself on every use: the stored event at its version must
still carry the cached ``event_id``, else it is dropped and the stream is loaded from the database.
The cache therefore never decides what is true; it only saves replaying a stream's history.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Entry:
    """An aggregate's state after ``version``, whose last event is ``event_id``; ``state`` is JSON text."""

    version: int
    event_id: str
    state: str


class AggregateCache:
    """A thread-safe LRU of ``Entry`` by (stream type, stream id); ``size`` 0 keeps nothing."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, str], entry: Entry) -> None:
        """Keep ``entry`` unless the cache already holds a later version of that stream."""
        if self.size <= 0:
            return
        with self._lock:
            held = self._entries.get(key)
            if held is not None and held.version >= entry.version:
                return
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_cache: AggregateCache | None = None


def cache() -> AggregateCache:
    """The process's cache, sized by ``EVENTSTORE_AGGREGATE_CACHE_SIZE`` (a new size starts it empty)."""
    global _cache
    size = settings.EVENTSTORE_AGGREGATE_CACHE_SIZE
    if _cache is None or _cache.size != size:
        _cache = AggregateCache(size)
    return _cache
