"""`python -m bench`: run the registered benchmark modules, print one table, write it as JSON.

Runs with ``DJANGO_SETTINGS_MODULE=bench.settings`` (the project's plus the toy app); the embedded
PostgreSQL and NATS under ``VAR_DIR`` start as for any ``manage.py`` command (``bootstrap.prepare()``).
Everything is measured in a database of its own (``mallbots_bench``, recreated and migrated on every
run) on that same server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import sys
import time
import types

from bench import core, database

# Order matters only for readability: baselines first. Each entry is a module with NAME, PROVIDES and run(ctx).
MODULES = [
    "bench.nats_publish",
    "bench.kernel",
    "bench.web",
    "bench.relay",
    "bench.consumers",
    "bench.kiosk",
    "bench.websocket",
    "bench.board",
    "bench.e2e",
    "bench.before",
    "bench.fulfilment",
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and shorter runs")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per figure (default 5, quick 3)")
    parser.add_argument("--only", default="", help="comma-separated module names or baseline names (see "
                        "--list); baselines a module needs run too")
    parser.add_argument("--list", action="store_true", help="list the module names and exit")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a figure fails its target")
    return parser.parse_args(argv)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def setup_django() -> None:
    """Start/attach the embedded servers, recreate the bench database, migrate it."""
    from mallbots_site import bootstrap

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    bootstrap.prepare()
    import django
    from django.conf import settings
    from django.core.management import call_command

    default = settings.DATABASES["default"]
    database.recreate(default)
    default["NAME"] = database.BENCH_DATABASE
    os.environ["DATABASE_URL"] = database.with_database(os.environ["DATABASE_URL"], database.BENCH_DATABASE)
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def load_modules() -> dict[str, object]:
    """The registered modules; one that fails to import still appears, as a skipped figure."""
    modules = {}
    for name in MODULES:
        try:
            modules[name] = importlib.import_module(name)
        except Exception as exc:
            short, reason = name.rsplit(".", 1)[-1], f"import failed ({type(exc).__name__}: {exc})"
            modules[name] = types.SimpleNamespace(NAME=short, PROVIDES=(),
                                                  run=lambda ctx, short=short, reason=reason: [core.skipped(short, reason)])
    return modules


def select(modules: dict[str, object], only: str) -> list[str]:
    if not only:
        return list(modules)
    wanted = {w.strip() for w in only.split(",") if w.strip()}
    names = {name: {name, getattr(m, "NAME", name), *getattr(m, "PROVIDES", ())} for name, m in modules.items()}
    unknown = wanted - set().union(*names.values())
    if unknown:
        choices = ", ".join(getattr(m, "NAME", name) for name, m in modules.items())
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; choose from {choices}")
    return [name for name in modules if names[name] & wanted]


def earlier_reports(var_dir) -> list[dict]:
    """The JSON reports of earlier runs in ``var_dir`` (unreadable files are left out)."""
    reports = []
    for path in sorted(var_dir.glob("*.json")):
        try:
            reports.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return reports


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.list:
        for name, module in load_modules().items():
            provides = ", ".join(getattr(module, "PROVIDES", ()))
            print(f"{getattr(module, 'NAME', name):16} {name}" + (f"  (provides {provides})" if provides else ""))
        return 0
    started = dt.datetime.now(dt.timezone.utc)
    load_before = os.getloadavg()
    log("preparing the bench database …")
    setup_django()
    from django.conf import settings
    from django.db import connection

    modules = load_modules()
    selected = select(modules, args.only)
    ctx = core.Context(
        reps=max(1, args.reps or (3 if args.quick else 5)), quick=args.quick,
        conninfo=database.conninfo(connection.settings_dict), database_url=os.environ["DATABASE_URL"],
        nats_url=settings.NATS_URL, var_dir=settings.VAR_DIR,
        port_base=int(os.environ.get("BENCH_PORT_BASE", "18080")), settings=settings,
        modules=modules,
        log=log,
    )
    clock = time.perf_counter()
    for name in selected:
        ctx.run_module(name)
    figures = [f for name in modules if name in ctx.results for f in ctx.results[name]]
    finished = dt.datetime.now(dt.timezone.utc)
    core.with_previous(figures, core.previous_values(earlier_reports(settings.VAR_DIR), quick=args.quick))

    print(core.render_table(figures))
    report = {
        "started_at": started.isoformat(), "finished_at": finished.isoformat(),
        "seconds": round(time.perf_counter() - clock, 1),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                 "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "options": {"reps": ctx.reps, "quick": ctx.quick, "only": args.only},
        "figures": [f.to_dict() for f in figures],
    }
    path = settings.VAR_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{len(figures)} figures in {report['seconds']} s on {os.cpu_count()} CPUs; load average "
          f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after (other work skews the figures); JSON: {path}")
    return 1 if args.strict and any(f.passed is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
