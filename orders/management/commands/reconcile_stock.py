from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import stock_mismatches, stock_record_count


class Command(BaseCommand):
    help = (
        "Replay every product's stock ledger and compare it with its stock record; "
        "print each mismatch and exit with status 1 if there is any."
    )

    def handle(self, *args, **options):
        mismatches = stock_mismatches()
        if not mismatches:
            self.stdout.write(
                self.style.SUCCESS(
                    f"OK: all {stock_record_count()} stock records match their ledgers."
                )
            )
            return
        for mismatch in mismatches:
            self.stdout.write(f"MISMATCH {mismatch}")
        raise CommandError(
            f"{len(mismatches)} stock record(s) do not match their ledgers.", returncode=1
        )
