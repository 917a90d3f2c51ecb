from decimal import Decimal

import pytest
from django.utils import timezone

from tests.migrations import migrate_to, migrated_back_to

BEFORE = [("orders", "0002_order_clerks_group")]
AFTER = [("orders", "0003_order_tracking_token")]


@pytest.mark.django_db(transaction=True)
def test_orders_placed_before_tracking_tokens_get_distinct_tokens():
    with migrated_back_to(BEFORE) as apps:
        customer = apps.get_model("orders", "Customer").objects.create(
            customer_id="CUST-1", name="A", email="a@example.com"
        )
        Order = apps.get_model("orders", "Order")
        zero = Decimal("0.00")
        for n in range(3):
            Order.objects.create(
                order_id=f"ORD-2024-0000{n}",
                customer=customer,
                subtotal=zero,
                tax=zero,
                shipping=zero,
                total=zero,
                ship_street="1 Main St",
                ship_city="X",
                ship_state="CA",
                ship_zip="94105",
                estimated_delivery=timezone.now(),
            )

        tokens = list(
            migrate_to(AFTER)
            .get_model("orders", "Order")
            .objects.values_list("tracking_token", flat=True)
        )

    assert len(tokens) == len(set(tokens)) == 3
    assert all(token and len(token) >= 32 for token in tokens)
