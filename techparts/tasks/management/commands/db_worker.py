import logging
import threading
import time

from django.conf import settings
from django.db import connections
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from techparts.tasks.tasks import ensure_sweeper

logger = logging.getLogger("techparts.tasks")


def _keep_sweeper_scheduled(interval: float) -> None:
    # The sweep schedules its successor itself; this catches the rare break in the chain (a
    # worker killed between taking a sweep and scheduling the next, a sweep's row deleted by
    # hand) within one interval instead of at the next worker start. One small transaction
    # per interval, on this thread's own connection.
    while True:
        time.sleep(interval)
        try:
            ensure_sweeper()
        except Exception:
            logger.exception("ensuring the sweeper failed; retrying in %s s", interval)
        finally:
            connections.close_all()


class Command(DatabaseWorkerCommand):
    help = (
        "Run a database background worker (django-tasks-db's db_worker) that keeps the sweeper "
        "scheduled: at start, then every TASKS_SWEEP_INTERVAL_SECONDS (docs/operations.md)."
    )

    def handle(self, *args, **options) -> None:
        # Before the package's worker loop: whichever worker starts first schedules the first
        # sweep, every later one finds it scheduled (see techparts.tasks.tasks).
        ensure_sweeper()
        if not options["batch"]:
            threading.Thread(
                target=_keep_sweeper_scheduled,
                args=(settings.TASKS_SWEEP_INTERVAL_SECONDS,),
                name="sweeper-watch",
                daemon=True,
            ).start()
        super().handle(*args, **options)
