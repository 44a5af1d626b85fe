"""Busywork's counters (``Stats``, shared by the clients of one run) and the run's ``Summary``: the
printed report, its JSON form and what counts as a problem."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from devtools.stats import percentile


@dataclass
class Stats:
    operations: Counter = field(default_factory=Counter)
    """Requests sent by operation (``getOrder``, ``addItem`` …), answered or not."""
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    server_errors: int = 0
    actions: Counter = field(default_factory=Counter)
    checkouts: int = 0
    approved: int = 0
    rejected: int = 0
    rejected_expected: int = 0
    unresolved: int = 0
    approved_ms: list[float] = field(default_factory=list)
    final_ms: list[float] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.operations.values())

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass
class Summary:
    """The outcome of one run. Latencies are in milliseconds; ``*_per_second`` use the load phase length."""

    duration: float
    clients: int
    rate: float
    requests: int
    statuses: dict[str, int]
    errors: dict[str, int]
    server_errors: int
    actions: dict[str, int]
    checkouts: int
    approved: int
    rejected: int
    rejected_expected: int
    unresolved: int
    approved_ms: list[float]
    final_ms: list[float]
    operations: dict[str, int] = field(default_factory=dict)
    """Requests sent by operation (``getOrder``, ``addItem`` …), answered or not."""

    @classmethod
    def of(cls, stats: Stats, *, duration: float, clients: int, rate: float) -> "Summary":
        return cls(duration=duration, clients=clients, rate=rate, requests=stats.requests,
                   statuses={str(k): v for k, v in sorted(stats.statuses.items())},
                   errors=dict(stats.errors.most_common()), server_errors=stats.server_errors,
                   actions=dict(stats.actions.most_common()), checkouts=stats.checkouts, approved=stats.approved,
                   rejected=stats.rejected, rejected_expected=stats.rejected_expected, unresolved=stats.unresolved,
                   approved_ms=list(stats.approved_ms), final_ms=list(stats.final_ms),
                   operations=dict(stats.operations.most_common()))

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.duration if self.duration > 0 else 0.0

    @property
    def checkouts_per_second(self) -> float:
        return self.checkouts / self.duration if self.duration > 0 else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def latency(self, p: float) -> float | None:
        """Checkout → approved latency percentile (ms); ``None`` without approved orders."""
        return _percentile(self.approved_ms, p)

    @property
    def problems(self) -> int:
        """What should never happen: 5xx, no answer, a checkout without the expected outcome, a client bug.

        4xx answers are not problems: concurrent clients legitimately run into business rules.
        """
        return self.server_errors + self.unresolved + sum(
            count for kind, count in self.errors.items() if not kind[:1].isdigit())

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration": round(self.duration, 2), "clients": self.clients, "rate": self.rate,
            "requests": self.requests, "requests_per_second": round(self.requests_per_second, 1),
            "checkouts": self.checkouts, "checkouts_per_second": round(self.checkouts_per_second, 2),
            "approved": self.approved, "rejected": self.rejected, "rejected_expected": self.rejected_expected,
            "unresolved": self.unresolved,
            "checkout_to_approved_ms": {f"p{p}": _round(self.latency(p)) for p in (50, 95, 99)},
            "checkout_to_final_ms": {f"p{p}": _round(_percentile(self.final_ms, p)) for p in (50, 95, 99)},
            "server_errors": self.server_errors, "errors": self.errors, "statuses": self.statuses,
            "actions": self.actions, "operations": self.operations, "problems": self.problems,
        }

    def format(self) -> str:
        def ms(p: float) -> str:
            value = self.latency(p)
            return "—" if value is None else f"{value:.0f} ms"

        lines = [
            f"busywork: {self.clients} clients, {self.duration:.1f} s, rate "
            + (f"{self.rate:g} actions/s" if self.rate else "unpaced"),
            f"  requests   {self.requests} ({self.requests_per_second:.1f}/s)",
            f"  checkouts  {self.checkouts} ({self.checkouts_per_second:.2f}/s): {self.approved} approved, "
            f"{self.rejected} rejected ({self.rejected_expected} short-paid on purpose), {self.unresolved} unresolved",
            f"  checkout → approved  p50 {ms(50)}  p95 {ms(95)}  p99 {ms(99)}  ({len(self.approved_ms)} orders)",
            "  actions    " + ", ".join(f"{name} {count}" for name, count in self.actions.items()),
            "  statuses   " + ", ".join(f"{status}: {count}" for status, count in self.statuses.items()),
            f"  server errors (5xx) {self.server_errors}; errors {self.error_count}" + (":" if self.errors else ""),
        ]
        lines += [f"    {count:6d}  {kind}" for kind, count in self.errors.items()]
        return "\n".join(lines)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _percentile(values: list[float], p: float) -> float | None:
    return percentile(values, p) if values else None
