"""The one percentile definition of the tools (bench figures, the load generator, busywork)."""

from __future__ import annotations

import math
from typing import Iterable


def percentile(values: Iterable[float], p: float) -> float:
    """The p-th percentile (0–100), linear interpolation between closest ranks.

    numpy's default, and ``statistics.quantiles(values, n=100, method="inclusive")[p - 1]`` for a whole
    ``p`` from 1 to 99. ``ValueError`` for no values or ``p`` outside 0–100.
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError("percentile must be between 0 and 100")
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))
