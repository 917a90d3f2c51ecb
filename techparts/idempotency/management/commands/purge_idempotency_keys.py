from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from techparts.idempotency.services import idempotency_records_purge


class Command(BaseCommand):
    help = (
        "Delete every expired Idempotency-Key record (older than IDEMPOTENCY_KEY_TTL_HOURS). "
        "Requests already purge a few on their way; this empties any backlog at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Records deleted per transaction (default 1000).",
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        purged = idempotency_records_purge(batch_size=batch_size)
        self.stdout.write(
            self.style.SUCCESS(
                f"Purged {purged} expired idempotency record(s) "
                f"(kept for {settings.IDEMPOTENCY_KEY_TTL_HOURS} hours)."
            )
        )
