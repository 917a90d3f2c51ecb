"""Demo data for orders: the seed's customer and a few state tax rates."""

from decimal import Decimal

from django.db import transaction

from orders.models import Customer, TaxRate

DEMO_CUSTOMERS = [
    {"customer_id": "CUST-789012", "name": "Alex Rivera", "email": "alex.rivera@example.com"},
    {"customer_id": "CUST-100001", "name": "Jordan Lee", "email": "jordan.lee@example.com"},
]

# Illustrative state-level rates (fractions); staff edit them in the admin.
DEMO_TAX_RATES = {
    "CA": Decimal("0.08"),
    "NY": Decimal("0.04"),
    "TX": Decimal("0.0625"),
    "WA": Decimal("0.065"),
    "FL": Decimal("0.06"),
}


@transaction.atomic
def load_demo_orders_data() -> tuple[int, int]:
    """Create the demo customers and tax rates that are missing; return (customers, rates) added.

    Existing rows are left as they are, so re-running never overwrites staff edits.
    """
    customers = 0
    for data in DEMO_CUSTOMERS:
        _, created = Customer.objects.get_or_create(
            customer_id=data["customer_id"],
            defaults={"name": data["name"], "email": data["email"]},
        )
        customers += created
    rates = 0
    for state, rate in DEMO_TAX_RATES.items():
        _, created = TaxRate.objects.get_or_create(state=state, defaults={"rate": rate})
        rates += created
    return customers, rates
