"""What every benchmark module shares: the Figure record, the run context, statistics and the table.

A module measures, then describes each result as a ``Figure``: its value (a median over the run's
repetitions), the baseline it is compared with (measured in the same run) and the target verdict.
"""

from __future__ import annotations

import importlib
import os
import socket
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence


@dataclass
class Figure:
    """One line of the report.

    ``value`` is ``None`` exactly when the benchmark could not run; ``skipped`` then says why.
    ``passed`` is ``None`` for informational figures (no target) and for skipped ones.
    """

    name: str
    value: float | None
    unit: str
    baseline_name: str | None = None
    baseline_value: float | None = None
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)
    skipped: str | None = None
    previous_value: float | None = None
    previous_run: str | None = None

    @property
    def status(self) -> str:
        if self.skipped is not None:
            return f"skipped: {self.skipped}"
        if self.passed is None:
            return "info"
        return "PASS" if self.passed else "FAIL"

    @property
    def change(self) -> float | None:
        """Relative change of ``value`` against ``previous_value`` (0.1 = 10 % higher); ``None`` without both."""
        if self.value is None or not self.previous_value:
            return None
        return self.value / self.previous_value - 1

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


def median(values: Iterable[float]) -> float:
    """The median of a non-empty sequence (mean of the two middle values for an even count)."""
    values = list(values)
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def timed_rate(count: int, work: Callable[[], Any]) -> float:
    """Run ``work`` (which performs ``count`` operations) once and return operations per second."""
    started = time.perf_counter()
    work()
    return rate(count, time.perf_counter() - started)


def run_for(seconds: float, operation: Callable[[int], Any], max_ops: int | None = None) -> float:
    """Call ``operation(i)`` for i = 0, 1, … until ``seconds`` elapsed (or ``max_ops`` calls); return calls/s.

    Time-bounded repetitions keep the run's length predictable on a busy machine.
    """
    started = time.perf_counter()
    deadline = started + seconds
    done = 0
    while (max_ops is None or done < max_ops) and (done == 0 or time.perf_counter() < deadline):
        operation(done)
        done += 1
    return rate(done, time.perf_counter() - started)


def skipped(name: str, reason: str, *, unit: str = "", target: str = "", baseline: "Figure | None" = None) -> Figure:
    return Figure(name=name, value=None, unit=unit, target=target, skipped=reason,
                  baseline_name=baseline.name if baseline else None,
                  baseline_value=baseline.value if baseline else None)


def measured(name: str, samples: Sequence[float], unit: str, *, baseline: Figure | None = None,
             at_least: float | None = None, at_most: float | None = None, target: str | None = None,
             note: str = "") -> Figure:
    """A figure whose value is the median of ``samples``.

    With a ``baseline``: ``ratio`` = value / baseline value, judged against ``at_least`` / ``at_most``
    (a ratio). Without one: the value itself is judged against ``at_least`` / ``at_most``. Neither
    bound: informational (``passed`` None). A missing or skipped baseline leaves ratio and verdict
    empty and says so in the note.
    """
    value = median(samples)
    bounds = [f"≥ {at_least:g}" if at_least is not None else "", f"≤ {at_most:g}" if at_most is not None else ""]
    bound_text = ", ".join(b for b in bounds if b)
    figure = Figure(name=name, value=value, unit=unit, samples=[float(s) for s in samples], note=note)
    if baseline is not None:
        figure.baseline_name, figure.baseline_value = baseline.name, baseline.value
        figure.target = target if target is not None else (f"{bound_text} × {baseline.name}" if bound_text else "")
        if baseline.value is None or baseline.value == 0:
            figure.note = _join(note, f"no ratio: baseline {baseline.status}")
            return figure
        figure.ratio = value / baseline.value
        judged = figure.ratio
    else:
        figure.target = target if target is not None else (f"{bound_text} {unit}" if bound_text else "")
        judged = value
    if at_least is not None or at_most is not None:
        figure.passed = (at_least is None or judged >= at_least) and (at_most is None or judged <= at_most)
    return figure


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


@dataclass
class Context:
    """What a benchmark module gets: settings, connection strings, repetition count, port allocation.

    ``baseline(name)`` returns the baseline figure of that name measured in this run, running its
    providing module first if it has not run yet (so ``--only kernel`` still measures ``pg_insert``).
    """

    reps: int
    quick: bool
    conninfo: str
    database_url: str
    nats_url: str
    var_dir: Path
    port_base: int
    settings: Any = None
    modules: dict[str, Any] = field(default_factory=dict)
    results: dict[str, list[Figure]] = field(default_factory=dict)
    log: Callable[[str], None] = print

    def scale(self, full: Any, quick: Any) -> Any:
        return quick if self.quick else full

    @property
    def seconds(self) -> float:
        """Length of one time-bounded repetition."""
        return self.scale(2.0, 1.0)

    def port(self, offset: int) -> int:
        """A fixed port for this run (``port_base + offset``, below 32768); see README for the offsets."""
        return self.port_base + offset

    def log_path(self, name: str) -> Path:
        """``VAR_DIR/bench-logs/<name>.log`` (the folder is created)."""
        logs = self.var_dir / "bench-logs"
        logs.mkdir(parents=True, exist_ok=True)
        return logs / f"{name}.log"

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for server subprocesses: attached to this run's database and NATS."""
        return {**os.environ, "DATABASE_URL": self.database_url, "NATS_URL": self.nats_url,
                "PYTHONUNBUFFERED": "1", **extra}

    def run_module(self, module_name: str) -> list[Figure]:
        if module_name not in self.results:
            module = self.modules.get(module_name) or importlib.import_module(module_name)
            self.log(f"… {module_name}")
            started = time.perf_counter()
            try:
                figures = module.run(self)
            except Exception as exc:  # a broken module must not hide the other figures
                figures = [skipped(getattr(module, "NAME", module_name), f"{type(exc).__name__}: {exc}")]
            self.results[module_name] = figures
            self.log(f"  {module_name}: {time.perf_counter() - started:.1f} s")
        return self.results[module_name]

    def baseline(self, name: str) -> Figure | None:
        module_name = next((key for key, module in self.modules.items() if name in getattr(module, "PROVIDES", ())),
                           None)
        if module_name is None:
            return None
        for figure in self.run_module(module_name):
            if figure.name == name:
                return figure
        return None


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


COLUMNS = ("figure", "value", "baseline", "ratio", "target", "result", "vs previous")


def format_number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if value != value or value in (float("inf"), float("-inf")):
        text = str(value)
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def table_rows(figures: Sequence[Figure]) -> list[tuple[str, ...]]:
    rows = []
    for f in figures:
        baseline = f"{f.baseline_name} {format_number(f.baseline_value)}" if f.baseline_name else ""
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else ""
        rows.append((f.name, format_number(f.value, f.unit) if f.skipped is None else "—", baseline, ratio,
                     f.target, f.status, format_change(f.change)))
    return rows


def format_change(change: float | None) -> str:
    """``+12.3 %`` / ``−4.0 %``; empty when there is nothing to compare with."""
    if change is None:
        return ""
    return f"{'+' if change >= 0 else '−'}{abs(change) * 100:.1f} %"


def previous_values(reports: Iterable[dict], *, quick: bool) -> dict[str, tuple[float, str]]:
    """For each figure name, the value of the newest earlier report that measured it: {name: (value, started_at)}.

    ``reports`` are parsed JSON reports of this machine in any order. A report of the same mode (``quick`` or
    full) wins over a newer one of the other mode, so quick and full runs are compared among themselves
    when both exist.
    """
    ordered = sorted(reports, key=lambda r: (r.get("options", {}).get("quick", False) == quick, r.get("started_at", "")),
                     reverse=True)
    found: dict[str, tuple[float, str]] = {}
    for report in ordered:
        for figure in report.get("figures", []):
            if figure.get("value") is not None and figure.get("name") not in found:
                found[figure["name"]] = (float(figure["value"]), report.get("started_at", ""))
    return found


def with_previous(figures: Sequence[Figure], previous: dict[str, tuple[float, str]]) -> None:
    """Fill ``previous_value``/``previous_run`` of each figure from ``previous_values(...)``."""
    for figure in figures:
        if figure.name in previous:
            figure.previous_value, figure.previous_run = previous[figure.name]


def render_table(figures: Sequence[Figure]) -> str:
    """A plain-text table, one line per figure, with notes listed underneath.

    The column ``vs previous`` (change of the value against the previous run, ``with_previous``) appears
    when at least one figure has a previous value.
    """
    columns = COLUMNS if any(f.change is not None for f in figures) else COLUMNS[:-1]
    rows = [columns, *(row[:len(columns)] for row in table_rows(figures))]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [f"- {f.name}: {f.note}" for f in figures if f.note]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)
