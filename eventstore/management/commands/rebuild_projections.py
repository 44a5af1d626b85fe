"""Empty an app's read models and replay the event store into them (architecture.md §9); see
``eventstore.projections``."""

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from eventstore import projections


class Command(BaseCommand):
    help = ("In one transaction: lock the app's read-model tables, empty them, replay its streams in "
            "global_position order, write the checkpoint projections.<app>, commit. Readers see the old rows "
            "until the commit; writers of those tables wait.")

    def add_arguments(self, parser):
        parser.add_argument("apps", nargs="*", metavar="app",
                            help=f"one or more of: {', '.join(projections.apps_with_read_models())}")
        parser.add_argument("--all", action="store_true", help="every app that declares read models")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (summary only)")

    def handle(self, *args, apps, all, no_progress, **options):
        names = projections.apps_with_read_models() if all else apps
        if not names:
            raise CommandError("name an app (or --all); apps with read models: "
                               + ", ".join(projections.apps_with_read_models()))
        for name in names:
            try:
                projections.groups_of(name)
            except LookupError as exc:
                raise CommandError(str(exc)) from exc
        for name in names:
            summary = self._rebuild(name, show=not no_progress and options.get("verbosity", 1) > 0)
            rows = ", ".join(f"{label} {count}" for label, count in summary.rows.items())
            via = f", {summary.messages} messages to its durables" if summary.messages else ""
            self.stdout.write(f"{name}: {summary.events} events replayed{via} up to position {summary.position} "
                              f"in {summary.seconds:.1f} s; rows: {rows}")

    def _rebuild(self, name: str, *, show: bool) -> projections.Summary:
        if not show:
            return projections.rebuild(name)
        console = Console(file=self.stderr._out, stderr=True)
        columns = (TextColumn(f"rebuilding {name}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(name, total=None)

            def advance(done: int, total: int) -> None:
                if done == 1 or done % 500 == 0 or done == total:
                    bar.update(task, completed=done, total=total)

            return projections.rebuild(name, progress=advance)
