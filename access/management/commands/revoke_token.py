from django.core.management.base import BaseCommand, CommandError

from access.tokens import revoke_tokens


class Command(BaseCommand):
    help = "Revoke the token(s) with this 12-character prefix."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix, **options):
        count = revoke_tokens(prefix)
        if not count:
            raise CommandError(f"no active token with prefix {prefix!r}")
        self.stdout.write(f"revoked {count} token(s)")
