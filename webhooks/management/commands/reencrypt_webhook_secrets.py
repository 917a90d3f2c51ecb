from django.core.management.base import BaseCommand, CommandError

from webhooks.services import webhook_secrets_reseal


class Command(BaseCommand):
    help = (
        "Re-encrypt every webhook endpoint secret with the first key of WEBHOOK_SECRET_KEYS "
        "(run after putting a new key first; then the old keys may be removed)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Endpoints per transaction."
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        count = webhook_secrets_reseal(batch_size=batch_size)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the secrets of {count} endpoint(s)."))
