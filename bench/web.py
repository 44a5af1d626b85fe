"""Baseline `drf_hello` (quality.md §1.1): a DRF view returning {"ok": true} under two set-ups.

(a) the project's web tier as ``run_all`` starts it, (b) gunicorn with 2 sync workers. Both servers
run side by side; repetitions alternate between them so drift on a shared box hits both alike.
Load: ``bench.loadgen``, concurrency 16, keep-alive, in its own process.
"""

from __future__ import annotations

import contextlib

from bench import core, loadgen, servers

NAME = "drf_hello"
PROVIDES = ("drf_hello_gunicorn", "drf_hello_project")
CONCURRENCY = 16
PATH = "/bench/hello"
PROJECT_PORT_OFFSET, GUNICORN_PORT_OFFSET = 1, 2


def _describe(results: list[dict]) -> str:
    p50 = core.median(r["p50_ms"] for r in results if r["p50_ms"] is not None) if results else None
    p99 = core.median(r["p99_ms"] for r in results if r["p99_ms"] is not None) if results else None
    errors = sum(r["errors"] for r in results)
    return f"p50 {p50} ms, p99 {p99} ms, {errors} errors" if p50 is not None else f"{errors} errors"


def run(ctx: core.Context) -> list[core.Figure]:
    duration, warmup = ctx.scale(4, 2), 1.5
    workers = ctx.settings.WEB_WORKERS
    project_name, gunicorn_name = "drf_hello_project", "drf_hello_gunicorn"
    try:
        with contextlib.ExitStack() as stack:
            project = stack.enter_context(servers.project_web(ctx, ctx.port(PROJECT_PORT_OFFSET), ready_path=PATH))
            gunicorn = stack.enter_context(servers.gunicorn_sync(ctx, ctx.port(GUNICORN_PORT_OFFSET), ready_path=PATH))
            results: dict[str, list[dict]] = {project_name: [], gunicorn_name: []}
            for _ in range(ctx.reps):
                for name, base in ((gunicorn_name, gunicorn), (project_name, project)):
                    results[name].append(loadgen.run(base + PATH, concurrency=CONCURRENCY, duration=duration,
                                                     warmup=warmup))
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return [core.skipped(gunicorn_name, reason, unit="req/s"), core.skipped(project_name, reason, unit="req/s")]

    def rates(name: str) -> list[float]:
        return [r["rps"] for r in results[name]]

    gunicorn_figure = core.measured(gunicorn_name, rates(gunicorn_name), "req/s",
                                    note=f"gunicorn 2 sync workers; {_describe(results[gunicorn_name])}")
    project_figure = core.measured(
        project_name, rates(project_name), "req/s", baseline=gunicorn_figure, at_least=0.5,
        note=f"run_all web tier: {workers} uvicorn workers (HTTP on a thread pool) on one socket; {_describe(results[project_name])}")
    for figure, name in ((gunicorn_figure, gunicorn_name), (project_figure, project_name)):
        if any(r["errors"] for r in results[name]):
            figure.passed = False if figure.passed is not None else None
    return [gunicorn_figure, project_figure]
