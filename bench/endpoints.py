"""The endpoint/floor pairs the bench alternates. Add a row to measure a new endpoint.

`kind` names the request shape in bench/request.lua (and in bench/inprocess.py for the query
count); `path` and `floor_path` may hold `%07d`, filled with a product number per request.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    name: str
    kind: str  # product | list | patch | order
    method: str
    path: str
    floor_path: str
    target: float | None  # endpoint rps / floor rps the issue asks for (None: no target)
    max_queries: int | None = None  # queries per request the issue allows (None: no target)
    # Send a new Idempotency-Key with every request (the floor ignores it): the row then shows
    # what the one-transaction claim, action and stored answer cost over the plain write.
    idempotency_key: bool = False


PAIRS = (
    Pair(
        "GET /v1/products/{id}",
        "product",
        "GET",
        "/v1/products/PROD-SYN-%07d",
        "/bench/floor/products/PROD-SYN-%07d",
        target=0.6,
        max_queries=1,
    ),
    Pair(
        "GET /v1/products?page_size=100",
        "list",
        "GET",
        "/v1/products?page_size=100",
        "/bench/floor/products?page_size=100",
        target=0.5,
    ),
    Pair(
        "PATCH /v1/inventory/{sku}",
        "patch",
        "PATCH",
        "/v1/inventory/SYN-%07d",
        "/bench/floor/inventory/SYN-%07d",
        target=0.5,
    ),
    # Issue 11's sync reads: no target set; measured so a regression shows.
    Pair(
        "GET /v1/inventory?limit=100",
        "list",
        "GET",
        "/v1/inventory?limit=100",
        "/bench/floor/inventory?limit=100",
        target=None,
    ),
    Pair(
        "GET /v1/inventory/changes?limit=100",
        "list",
        "GET",
        "/v1/inventory/changes?limit=100",
        "/bench/floor/inventory/changes?limit=100",
        target=None,
    ),
    Pair(
        "PATCH /v1/inventory/{sku} + Idempotency-Key",
        "patch",
        "PATCH",
        "/v1/inventory/SYN-%07d",
        "/bench/floor/inventory/SYN-%07d",
        target=None,
        idempotency_key=True,
    ),
    Pair(
        "POST /v1/orders",
        "order",
        "POST",
        "/v1/orders",
        "/bench/floor/orders",
        target=None,
    ),
    Pair(
        "POST /v1/orders + Idempotency-Key",
        "order",
        "POST",
        "/v1/orders",
        "/bench/floor/orders",
        target=None,
        idempotency_key=True,
    ),
)

CUSTOMER_ID = "CUST-789012"  # a demo customer (seed_demo)
SHIPPING_ADDRESS = {
    "street": "1 Bench Way",
    "city": "San Francisco",
    "state": "CA",
    "zip": "94105",
    "country": "US",
}


def product_id(number: int) -> str:
    """Return the public id of synthetic product `number` (seed_demo --products)."""
    return f"PROD-SYN-{number:07d}"


def order_body(numbers: list[int], quantity: int = 1) -> dict:
    """Return an order body with one line per product number, in the given order."""
    return {
        "customer_id": CUSTOMER_ID,
        "items": [{"product_id": product_id(n), "quantity": quantity} for n in numbers],
        "shipping_address": SHIPPING_ADDRESS,
    }
