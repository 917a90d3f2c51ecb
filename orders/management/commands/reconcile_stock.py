"""Check stock against the two records that explain it: the stock ledger and the open orders.

The command lives in orders because it needs both: orders builds on inventory, and inventory
must not import orders. Inventory supplies the checks (stock_mismatches: each stock record
against its ledger; reserved_mismatches: reserved units against what the caller says open
orders hold), orders supplies what its pending orders hold.
"""

from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import reserved_mismatches, stock_mismatches, stock_record_count
from orders.selectors import pending_units_by_product


class Command(BaseCommand):
    help = (
        "Replay every product's stock ledger and compare it with its stock record, and compare "
        "each product's reserved units with the units on its pending orders; print each "
        "mismatch and exit with status 1 if there is any. Units held by pending approval "
        "requests count as reserved."
    )

    def handle(self, *args, **options):
        mismatches = [
            *stock_mismatches(),
            *reserved_mismatches(promised=pending_units_by_product()),
        ]
        if not mismatches:
            records = stock_record_count()
            self.stdout.write(
                self.style.SUCCESS(f"OK: all {records} stock records match their ledgers.")
            )
            self.stdout.write(
                self.style.SUCCESS(
                    "OK: reserved units match the units on pending orders and approval holds."
                )
            )
            return
        for mismatch in mismatches:
            self.stdout.write(f"MISMATCH {mismatch}")
        products = len({mismatch.product_id for mismatch in mismatches})
        raise CommandError(
            f"{products} stock record(s) do not match their ledgers or pending orders.",
            returncode=1,
        )
