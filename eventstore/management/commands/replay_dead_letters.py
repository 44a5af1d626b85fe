"""Replay dead letters through their consumer's handler (architecture.md §8); see ``eventstore.deadletters``."""

from django.core.management.base import BaseCommand, CommandError

from eventstore import deadletters


class Command(BaseCommand):
    help = ("Run each dead letter's consumer handler in-process on the stored message (inbox and transaction "
            "rules as in the consumer runner). Default: every dead letter not yet replayed or discarded.")

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--id", type=int, help="replay only this dead letter")
        which.add_argument("--consumer", help="replay only this durable's dead letters")
        parser.add_argument("--all", action="store_true", dest="include_done",
                            help="include dead letters already replayed or discarded")

    def handle(self, *args, id, consumer, include_done, **options):
        rows = list(deadletters.select(id=id, consumer=consumer, include_done=include_done))
        if id is not None and not rows:
            raise CommandError(f"dead letter {id} not found, or already replayed/discarded (use --all)")
        succeeded = failed = 0
        for row in rows:
            if deadletters.replay(row):
                succeeded += 1
                self.stdout.write(f"replayed {row.pk} {row.consumer} {row.name} {row.message_id}")
            else:
                failed += 1
                self.stdout.write(f"failed {row.pk} {row.consumer} {row.name} {row.message_id}: "
                                  f"{row.error.get('type')}: {row.error.get('text')}")
        self.stdout.write(f"{succeeded} replayed, {failed} failed")
        if failed:
            raise CommandError(f"{failed} dead letter(s) could not be replayed")
