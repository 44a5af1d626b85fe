"""The code of 2026-11-29 side by side with this one, in the same run (quality.md §1.2: CPU per order "halved
against 2026-11-29", maximum checkouts/s "≥ 2 × the 10–15/s measured on 2026-11-29").

``bench.e2e`` judges ``cpu_per_order`` and ``e2e_max_checkouts`` against constants measured on that day
(``CPU_PER_ORDER_MS_BEFORE``, ``MAX_CHECKOUTS_BEFORE``), while the speed of this box moves between days by
more than a tenth. Here the code of that day — ``BEFORE_COMMIT``, the last commit before issue 16, extracted
with ``git archive`` into ``VAR_DIR/bench-before-<commit>`` once — runs as ``bench.e2e`` runs the current
code: its own ``run_all`` on the same scratch database and NATS, driven by this tree's load generator, through
the same warm-up, checkout latency at 10/s (CPU by role; the old code falls behind at that rate here, so its
last orders are followed until approved, ``SETTLE_SECONDS`` at most, inside the CPU window) and capacity
steps. Figures:

- ``cpu_per_order_before_code`` and ``e2e_max_checkouts_before_code``: the old code's, reported;
- ``cpu_per_order_vs_before_code``: this run's ``cpu_per_order`` against the old code's, ≤ 0.5×;
- ``e2e_max_vs_before_code``: this run's ``e2e_max_checkouts`` against the old code's, ≥ 2×.

Without git, or without the commit (a shallow clone), the figures are skipped with the reason. Logs:
``VAR_DIR/bench-logs/before-*.log``; ports as ``bench.e2e``'s (the two never run at once).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from bench import core, e2e

NAME = "before"
PROVIDES: tuple[str, ...] = ()
BEFORE_COMMIT = "8b16a26"
"""The code on which ``e2e.CPU_PER_ORDER_MS_BEFORE`` and ``e2e.MAX_CHECKOUTS_BEFORE`` were measured (ADR 27)."""
SETTLE_SECONDS = 180
"""How long the latency part follows the old code's last orders: it falls behind at 10 checkouts/s on this box,
and its CPU per order counts only when every order it worked on was approved inside the window."""
FIGURES = (("cpu_per_order_before_code", e2e.CPU_UNIT), ("cpu_per_order_vs_before_code", e2e.CPU_UNIT),
           ("e2e_max_checkouts_before_code", "checkouts/s"), ("e2e_max_vs_before_code", "checkouts/s"))


class CodeUnavailable(Exception):
    """The commit cannot be extracted here (no git, not a repository, or the commit is missing)."""


def extracted_tree(repository: Path, commit: str, into: Path) -> Path:
    """The files of ``commit`` of the git repository at ``repository``, under ``into/bench-before-<commit>``;
    extracted once (a ``.commit`` file there names the full hash). Raises ``CodeUnavailable``."""
    try:
        found = subprocess.run(["git", "-C", str(repository), "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
                               capture_output=True, text=True, timeout=60)
    except OSError as exc:
        raise CodeUnavailable(f"git is not available: {exc}") from exc
    full = found.stdout.strip()
    if found.returncode or not full:
        raise CodeUnavailable(f"commit {commit} is not in {repository} (a shallow clone?)")
    tree = into / f"bench-before-{commit}"
    marker = tree / ".commit"
    if marker.exists() and marker.read_text().strip() == full:
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(repository), "archive", "--format=tar", full], capture_output=True,
                             timeout=120)
    if archive.returncode:
        raise CodeUnavailable(f"git archive {commit} failed: {archive.stderr.decode(errors='replace')[-300:]}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    marker.write_text(full + "\n")
    return tree


def reported(figure: core.Figure, name: str, note: str = "") -> core.Figure:
    """``figure``'s value under ``name``, without a target (skipped stays skipped)."""
    if figure.value is None:
        return core.skipped(name, figure.skipped or "not measured", unit=figure.unit)
    return core.measured(name, [figure.value], figure.unit, target="reported",
                         note="; ".join(part for part in (note, figure.note) if part))


def against(name: str, current: core.Figure | None, before: core.Figure, *, at_most: float | None = None,
            at_least: float | None = None) -> core.Figure:
    """This run's ``current`` judged as a ratio to the old code's ``before`` (``core.measured`` with a baseline)."""
    if current is None or current.value is None:
        reason = "not measured" if current is None else current.status
        return core.skipped(name, f"this run's figure: {reason}", unit=before.unit, baseline=before)
    return core.measured(name, [current.value], current.unit, baseline=before, at_most=at_most, at_least=at_least,
                         note=f"this run's {current.name} against the same figure of commit {BEFORE_COMMIT}")


def run(ctx: core.Context) -> list[core.Figure]:
    current = {figure.name: figure for figure in ctx.run_module("bench.e2e")}
    try:
        tree = extracted_tree(Path(ctx.settings.BASE_DIR), BEFORE_COMMIT, ctx.var_dir)
        with e2e.running_system(ctx, base_dir=tree, logs="before") as system:
            e2e.warm_up(ctx, system)
            latency = {figure.name: figure for figure in e2e.checkout_latency(ctx, system,
                                                                               settle_seconds=SETTLE_SECONDS)}
            capacity = e2e.capacity(ctx, system)
    except Exception as exc:
        return [core.skipped(name, f"{type(exc).__name__}: {exc}", unit=unit) for name, unit in FIGURES]
    p50, requests = latency.get("e2e_checkout_p50"), latency.get("e2e_requests_per_order")
    cpu = reported(latency["cpu_per_order"], "cpu_per_order_before_code", note=f"commit {BEFORE_COMMIT}: " + (
        f"{p50.note}; checkout → approved p50 {p50.value:.0f} ms; {requests.value:.1f} kiosk requests per order "
        "(a slower approval costs more polls of getOrder, as it does for this run's code)"
        if p50 and p50.value is not None and requests and requests.value is not None else "no order approved"))
    most = reported(capacity, "e2e_max_checkouts_before_code", note=f"commit {BEFORE_COMMIT}")
    return [cpu, against("cpu_per_order_vs_before_code", current.get("cpu_per_order"), cpu, at_most=0.5),
            most, against("e2e_max_vs_before_code", current.get("e2e_max_checkouts"), most, at_least=2)]
