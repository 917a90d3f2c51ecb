from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from techparts.tasks.tasks import ensure_sweeper


class Command(DatabaseWorkerCommand):
    help = (
        "Run a database background worker (django-tasks-db's db_worker), after making sure "
        "the sweeper is scheduled (docs/operations.md, Background work)."
    )

    def handle(self, *args, **options) -> None:
        # Before the package's worker loop: whichever worker starts first schedules the first
        # sweep, every later one finds it scheduled (see techparts.tasks.tasks).
        ensure_sweeper()
        super().handle(*args, **options)
