"""Issue an API token and print it once: kiosk --name, staff --user, bot --bot."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from access.tokens import issue_token


class Command(BaseCommand):
    help = "Issue a kiosk, staff or bot token; the raw token is printed once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["kiosk", "staff", "bot"])
        parser.add_argument("--name", default="", help="kiosk device name")
        parser.add_argument("--user", default="", help="staff username")
        parser.add_argument("--bot", default="", help="bot id")
        parser.add_argument("--expires-days", type=int, default=None,
                            help="days until the token expires (at least 1); leave out for no expiry")

    def handle(self, *args, kind, name, user, bot, expires_days, **options):
        owner = None
        if kind == "kiosk" and not name:
            raise CommandError("kiosk tokens need --name")
        if kind == "staff":
            try:
                owner = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"no user {user!r}")
        if kind == "bot" and not bot:
            raise CommandError("bot tokens need --bot")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1 (leave it out for no expiry)")
        token, raw = issue_token(kind, name=name, user=owner, bot_id=bot, expires_days=expires_days)
        self.stdout.write(raw)
