"""``manage.py busywork``: kiosk-like HTTP load with live progress and a final summary (the ``busywork`` package)."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from busywork import MIX, issue_busywork_token, run_load
from eventstore import loop


def parse_mix(text: str) -> dict[str, float]:
    """``buy=3,browse=1`` → weights; behaviours not named get weight 0."""
    mix = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        if name not in MIX:
            raise CommandError(f"unknown behaviour {name!r}; choose from {', '.join(MIX)}")
        try:
            mix[name] = float(weight or 1)
        except ValueError:
            raise CommandError(f"weight of {name} must be a number") from None
    return mix


class Command(BaseCommand):
    help = ("Generate kiosk and store-staff traffic over HTTP (browse and abandon, buy, register, set up stores, "
            "add inventory, rebrand) with live progress and a final summary. Without --token it creates or "
            "reuses the superuser 'busywork' in the configured database and issues it a staff token, revoked "
            "at the end. Exit status 1 when there were server errors (5xx), requests without an answer, "
            "orders not final in time or with the wrong outcome; 4xx business rejections are reported only.")

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=settings.BOT_SIM_BASE_URL,
                            help="API root (default BOT_SIM_BASE_URL: %(default)s)")
        parser.add_argument("--token", default="", help="bearer token (default: a fresh staff token of 'busywork')")
        parser.add_argument("--clients", type=int, default=10, help="concurrent clients (default %(default)s)")
        parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default %(default)s)")
        parser.add_argument("--rate", type=float, default=0.0,
                            help="actions per second over all clients; 0 = each client as fast as it can")
        parser.add_argument("--seed", type=int, default=None, help="random seed for a repeatable mix")
        parser.add_argument("--mix", default="", help="behaviour weights, e.g. buy=3,browse=1 (default: "
                            + ",".join(f"{k}={v}" for k, v in MIX.items()) + ")")
        parser.add_argument("--progress-every", type=float, default=5.0, help="seconds between progress lines")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, base_url, token, clients, duration, rate, seed, mix, progress_every, as_json,
               **options):
        if clients < 1 or duration <= 0 or rate < 0 or progress_every <= 0:
            raise CommandError("--clients must be ≥ 1, --duration and --progress-every > 0, --rate ≥ 0")
        issued_prefix = ""
        if not token:
            token, issued_prefix = issue_busywork_token()
        self.stderr.write(f"busywork against {base_url}: {clients} clients for {duration:g} s, "
                          + (f"{rate:g} actions/s" if rate else "unpaced"))
        try:
            summary = loop.run(run_load(
                base_url, token, clients=clients, duration=duration, rate=rate, seed=seed,
                mix=parse_mix(mix) if mix else None, progress=self.stderr.write, progress_every=progress_every,
                handle_signals=True))
        finally:
            if issued_prefix:
                from access.tokens import revoke_tokens

                revoke_tokens(issued_prefix)
        self.stdout.write(json.dumps(summary.to_dict(), indent=2) if as_json else summary.format())
        if summary.problems:
            raise SystemExit(1)
