from django.core.management.base import BaseCommand, CommandError

from orders.demo import load_demo_orders_data
from shop.demo import load_demo_catalog, load_synthetic_products


class Command(BaseCommand):
    help = "Load the demo catalog (idempotent); --products N adds N synthetic products."

    def add_arguments(self, parser):
        parser.add_argument(
            "--products", type=int, default=0, help="Also add this many synthetic products."
        )

    def handle(self, *args, products: int, **options):
        if products < 0:
            raise CommandError("--products must be 0 or more")
        created, total = load_demo_catalog()
        self.stdout.write(f"Demo catalog: {created} products created, {total} in the demo set.")
        customers, rates = load_demo_orders_data()
        self.stdout.write(f"Demo orders data: {customers} customers, {rates} tax rates added.")
        if products:
            added = load_synthetic_products(products)
            self.stdout.write(f"Synthetic products: {added} added.")
