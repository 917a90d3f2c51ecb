from decimal import Decimal

import pytest

from orders.services import OrderItem, ShippingAddress, order_create
from techparts.actors import Actor
from tests.factories import CustomerFactory, ProductFactory, TaxRateFactory

# The seed's order confirmation, field for field and in its order.
SEED_ORDER_FIELDS = [
    "order_id",
    "status",
    "subtotal",
    "tax",
    "shipping",
    "total",
    "currency",
    "items_count",
    "created_at",
    "estimated_delivery",
    "tracking_url",
]

SEED_ADDRESS = {
    "street": "123 Tech Lane",
    "city": "San Francisco",
    "state": "CA",
    "zip": "94105",
    "country": "US",
}


def order_body(*items, customer_id="CUST-789012", **overrides):
    """A POST /v1/orders body; items are (product_id, quantity) pairs."""
    body = {
        "customer_id": customer_id,
        "items": [{"product_id": pid, "quantity": qty} for pid, qty in items],
        "shipping_address": dict(SEED_ADDRESS),
    }
    body.update(overrides)
    return body


@pytest.fixture
def customer(db):
    return CustomerFactory(customer_id="CUST-789012", name="Alex Rivera")


@pytest.fixture
def ca_tax(db):
    return TaxRateFactory(state="CA", rate=Decimal("0.08"))


@pytest.fixture
def seed_products(db):
    """The seed's two products: the RTX 4090 at 1599.99 and the Ryzen 5950X at 549.99."""
    gpu = ProductFactory(
        public_id="PROD-4090-MSI-001",
        sku="GPU-NV-4090-MSI-001",
        name="NVIDIA GeForce RTX 4090 MSI Gaming X Trio",
        price=Decimal("1599.99"),
        stock=23,
    )
    cpu = ProductFactory(
        public_id="PROD-5950X-AMD-001",
        sku="CPU-AMD-5950X-001",
        name="AMD Ryzen 9 5950X",
        price=Decimal("549.99"),
        stock=12,
    )
    return gpu, cpu


@pytest.fixture
def seed_body(customer, ca_tax, seed_products):
    """The seed's example request, with everything it refers to in the database."""
    return order_body(("PROD-4090-MSI-001", 1), ("PROD-5950X-AMD-001", 1))


@pytest.fixture
def place_order(db, customer, ca_tax):
    """Place an order through the service: place_order((product, qty), ..., actor=...)."""

    def place(*items, actor=None, state="CA"):
        return order_create(
            customer=customer,
            items=[OrderItem(product=product, quantity=qty) for product, qty in items],
            shipping_address=ShippingAddress(**{**SEED_ADDRESS, "state": state}),
            actor=actor or Actor.system(),
        )

    return place
