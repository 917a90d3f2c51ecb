from django.core.management.base import BaseCommand

from techparts.tasks.tasks import ensure_sweeper


class Command(BaseCommand):
    help = (
        "Schedule the sweeper (periodic upkeep: re-arming leased work, pruning) unless a sweep "
        "is already scheduled; print the scheduled sweep's task result id. Idempotent. "
        "`manage.py db_worker` does this itself; rq workers need it once after deploys."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(ensure_sweeper())
