"""Check the system's invariants on the live database and print one line per check (``eventstore.audit``)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from eventstore import audit


class Command(BaseCommand):
    help = "Check every declared invariant (exactly-once orders, sagas, outbox, money, bots); exit 1 on a breach."

    def add_arguments(self, parser):
        parser.add_argument("--only", default="", help="comma-separated check names")
        parser.add_argument("--json", action="store_true", help="print the findings as JSON")
        parser.add_argument("--thorough", action="store_true",
                            help="also the checks that read everything (projection-drift: every read model "
                                 "against a rebuild, in a rolled-back transaction)")

    def handle(self, *args, only, **options):
        wanted = [name.strip() for name in only.split(",") if name.strip()]
        unknown = sorted(set(wanted) - set(audit.names()))
        if unknown:
            raise CommandError(f"unknown check(s): {', '.join(unknown)}; choose from {', '.join(audit.names())}")
        findings = audit.run(wanted or None, thorough=options["thorough"])
        if options["json"]:
            self.stdout.write(_json([{"check": f.check, "count": f.count, "breach": f.breached, "detail": f.detail,
                                      "seconds": round(f.seconds, 3)} for f in findings]))
        else:
            width = max(len(f.check) for f in findings)
            for finding in findings:
                verdict = "BREACH" if finding.breached else "ok"
                self.stdout.write(f"{finding.check:<{width}}  {finding.count:>6}  {verdict:<6}  "
                                  f"{finding.seconds * 1000:>6.0f} ms  {finding.detail}")
            breaches = sum(f.breached for f in findings)
            self.stdout.write(f"{len(findings)} checks, {breaches} breached")
        if any(f.breached for f in findings):
            raise SystemExit(1)


def _json(data) -> str:
    return json.dumps(data, indent=2)
