"""Exponential backoff shared by the long-running kernel processes (relay, consumer runner)."""

from __future__ import annotations


class Backoff:
    """Delays ``first, 2·first, 4·first, …`` capped at ``cap``; ``reset()`` starts again at ``first``."""

    def __init__(self, cap: float, *, first: float) -> None:
        self.cap = max(cap, 0.0)
        self.first = min(first, self.cap) if self.cap else 0.0
        self.failures = 0

    def next(self) -> float:
        """The delay before the next attempt (one more failure counted)."""
        self.failures += 1
        return min(self.cap, self.first * 2 ** min(self.failures - 1, 32))

    def reset(self) -> None:
        self.failures = 0
