from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from techparts.events.services import events_prune


class Command(BaseCommand):
    help = "Delete events older than EVENTS_RETENTION_DAYS (at least 30), oldest first."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000, help="Events per transaction.")

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        pruned = events_prune(batch_size=batch_size)
        self.stdout.write(
            self.style.SUCCESS(
                f"Pruned {pruned} event(s) older than {settings.EVENTS_RETENTION_DAYS} days."
            )
        )
