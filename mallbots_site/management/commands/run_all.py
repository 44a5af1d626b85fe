"""Everything on one host: migrations, stream, roles, schedules, then all processes supervised.

``manage.py`` started or attached to the embedded PostgreSQL/NATS before this command runs (ADR 15); the
children inherit its environment and attach.
"""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from eventstore import messaging
from mallbots_site.supervisor import Child, Supervisor
from mallbots_site.web import http_server_argv, listening_socket


# qcluster runs each task in a forked single-threaded worker: plain persistent connections, no pool (ADR 11).
CHILD_ENV = {"qcluster": {"DATABASE_POOL_MAX_SIZE": "0"}}


def consumer_modules() -> list[str]:
    """One consumer process per module: handlers of one process share a GIL, so a single process would
    cap every module's message handling at one core (the compose layout runs one service per module too)."""
    return sorted({durable.module for durable in messaging.durables()})


class Command(BaseCommand):
    help = "Migrate, then run web, relay, consumers, scheduler and bots (embedded PostgreSQL/NATS if needed)."

    def add_arguments(self, parser):
        parser.add_argument("--bots", type=int, default=settings.BOT_SIM_COUNT)
        parser.add_argument("--no-bots", action="store_true")
        parser.add_argument("--web-workers", type=int, default=settings.WEB_WORKERS)

    def handle(self, *args, bots, no_bots, web_workers, **options):
        commands = get_commands()
        call_command("migrate", interactive=False, verbosity=0)
        if "ensure_stream" in commands:
            call_command("ensure_stream")
        call_command("setup_roles", verbosity=0)
        if "setup_schedules" in commands:
            call_command("setup_schedules")

        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        sock = listening_socket(settings.WEB_HOST, settings.WEB_PORT)
        children = [Child("web", http_server_argv(sock.fileno(), web_workers), pass_fds=(sock.fileno(),))]
        optional = [("relay", ["run_relay"])]
        optional += [(f"consumers-{module}", ["run_consumers", "--modules", module]) for module in consumer_modules()]
        optional.append(("qcluster", ["qcluster"]))
        if not no_bots and bots > 0:
            optional.append(("bots", ["run_bots", "--count", str(bots)]))
        children += [Child(name, manage + argv, env=CHILD_ENV.get(name, {})) for name, argv in optional
                     if argv[0] in commands and (name != "qcluster" or "setup_schedules" in commands)]

        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.stdout.write(f"MallBots on http://{settings.WEB_HOST}:{settings.WEB_PORT}/ "
                          f"(admin /admin/, API docs /api/docs/); Ctrl-C stops everything")
        Supervisor(children, env, settings.SHUTDOWN_TIMEOUT_SECONDS).run()
        sock.close()
        self.stdout.write("stopped")
