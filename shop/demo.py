"""Load the demo catalog with its stock (and synthetic bulk products for load tests)."""

import random
from decimal import Decimal

from django.db import transaction

from catalog.demo_data import CATEGORIES, PRODUCTS
from catalog.models import Category, Product
from catalog.services import product_update
from shop.services import product_bulk_open, product_open
from techparts.actors import Actor
from techparts.money import to_cents

SYNTHETIC_PREFIX = "PROD-SYN-"
# The demo catalog's unit costs: this share of each price (a distributor's usual margin), so
# the stock overview values the demo's movements. Synthetic products have no cost (unknown).
DEMO_COST_SHARE = Decimal("0.72")


@transaction.atomic
def load_demo_catalog() -> tuple[int, int]:
    """Create the demo categories and products that are missing; return (created, total).

    Existing products are left as they are, so re-running never resets stock or edits.
    """
    categories = {}
    for data in CATEGORIES:
        categories[data["slug"]], _ = Category.objects.update_or_create(
            slug=data["slug"], defaults={"name": data["name"], "description": data["description"]}
        )
    existing = set(Product.objects.values_list("public_id", flat=True))
    new_products = set()
    for data in PRODUCTS:
        if data["id"] in existing:
            continue
        product = product_open(
            actor=Actor.system(),
            stock=data["stock"],
            reason="Opening balance (demo data)",
            unit_cost=to_cents(Decimal(data["price"]) * DEMO_COST_SHARE),
            public_id=data["id"],
            sku=data["sku"],
            name=data["name"],
            category=categories[data["category"]],
            manufacturer=data["manufacturer"],
            price=Decimal(data["price"]),
            specifications=data["specifications"],
            warranty=data["warranty"],
        )
        new_products.add(product)
    if new_products:
        by_id = {
            p.public_id: p
            for p in Product.objects.filter(public_id__in=[d["id"] for d in PRODUCTS])
        }
        for data in PRODUCTS:
            if by_id[data["id"]] in new_products:
                product_update(
                    product=by_id[data["id"]], related_products=[by_id[r] for r in data["related"]]
                )
    return len(new_products), len(PRODUCTS)


@transaction.atomic
def load_synthetic_products(count: int, *, batch_size: int = 2000, seed: int = 0) -> int:
    """Bulk-insert `count` synthetic products with stock, numbered after the existing ones."""
    categories = list(Category.objects.order_by("slug"))
    if not categories:
        raise ValueError("Load the demo catalog first: synthetic products need categories.")
    rng = random.Random(seed)
    start = Product.objects.filter(public_id__startswith=SYNTHETIC_PREFIX).count() + 1
    created = 0
    for offset in range(0, count, batch_size):
        numbers = range(start + offset, start + min(offset + batch_size, count))
        products = [
            Product(
                public_id=f"{SYNTHETIC_PREFIX}{n:07d}",
                sku=f"SYN-{n:07d}",
                name=f"Synthetic component {n}",
                category=categories[n % len(categories)],
                manufacturer=rng.choice(["ASUS", "MSI", "Gigabyte", "Corsair", "Kingston"]),
                price=Decimal(rng.randrange(999, 199999)) / 100,
                specifications={"batch": "synthetic", "index": n},
                warranty=rng.choice(["1 year", "2 years", "3 years"]),
            )
            for n in numbers
        ]
        product_bulk_open(
            products=products,
            stock=[rng.randrange(0, 250) for _ in products],
            actor=Actor.system(),
            reason="Opening balance (synthetic load-test data)",
            batch_size=batch_size,
        )
        created += len(products)
    return created
