"""The writes that take an `Idempotency-Key`, and what one application of each changes.

Shared by the in-process idempotency tests and the crash tests with real processes: each case
is sent against the same small world (three products with 10 units each, the seed's customer
and tax, one open order of 1 unit of B), and `world()` reads back everything a write applied
twice would change twice: orders, stock, ledger rows and events.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from rest_framework.test import APIClient

from inventory.models import StockMovement, StockRecord
from orders.models import Order
from techparts.events.models import Event
from tests.factories import CustomerFactory, ProductFactory, TaxRateFactory
from tests.orders.conftest import order_body

A, B, C = "IDEM-A-001", "IDEM-B-001", "IDEM-C-001"


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    body: dict | None


@dataclass(frozen=True)
class Case:
    name: str
    # The write to send, given the open order's id.
    write: Callable[[str], Write]
    # Dotted view attribute holding the service the view calls (tests wrap it).
    service: str
    # What one application changes: counters' deltas, and stock as (sku, field) -> value.
    once: dict
    # The status of a first, successful answer.
    status: int

    def __str__(self) -> str:
        return self.name


CASES = [
    Case(
        "order-create",
        lambda _: Write("POST", "/v1/orders", order_body((f"PROD-{A}", 2))),
        "orders.views.order_create",
        {"orders": 1, "movements": 1, "events": 2, (A, "reserved"): 2},
        201,
    ),
    Case(
        "order-cancel",
        lambda order_id: Write("POST", f"/v1/orders/{order_id}/cancel", None),
        "orders.views.order_cancel",
        {"cancelled": 1, "movements": 1, "events": 2, (B, "reserved"): 0},
        200,
    ),
    Case(
        "inventory-patch",
        lambda _: Write("PATCH", f"/v1/inventory/{C}", {"quantity": 25}),
        "inventory.views.stock_set",
        {"movements": 1, "events": 1, (C, "on_hand"): 25},
        200,
    ),
    Case(
        "inventory-bulk",
        lambda _: Write(
            "POST",
            "/v1/inventory/bulk",
            {
                "reference": "wms://idem-1",
                "items": [{"sku": A, "adjust_by": 3}, {"sku": C, "quantity": 4}],
            },
        ),
        "inventory.views.stock_bulk_apply",
        {"movements": 2, "events": 3, (A, "on_hand"): 13, (C, "on_hand"): 4},
        200,
    ),
]


def make_world(api: APIClient) -> str:
    """Create the world every case starts from; return the open order's id."""
    CustomerFactory(customer_id="CUST-789012")
    TaxRateFactory(state="CA", rate=Decimal("0.08"))
    for sku in (A, B, C):
        ProductFactory(public_id=f"PROD-{sku}", sku=sku, stock=10)
    response = api.post("/v1/orders", order_body((f"PROD-{B}", 1)), format="json")
    assert response.status_code == 201, response.content
    return response.json()["order_id"]


def world() -> dict:
    """Everything a write applied twice would change twice, as the database holds it now."""
    state = {
        "orders": Order.objects.count(),
        "cancelled": Order.objects.filter(status="cancelled").count(),
        "movements": StockMovement.objects.count(),
        "events": Event.objects.count(),
    }
    for sku, on_hand, reserved in StockRecord.objects.values_list(
        "product__sku", "on_hand", "reserved"
    ):
        state[(sku, "on_hand")] = on_hand
        state[(sku, "reserved")] = reserved
    return state


def applied_once(before: dict, case: Case) -> dict:
    """The world after `case` applied exactly once to `before`."""
    after = dict(before)
    for name, change in case.once.items():
        if isinstance(name, tuple):
            after[name] = change
        else:
            after[name] += change
    return after


def send(client: APIClient, write: Write, key: str, **headers: str):
    """Send `write` through Django's test client with `Idempotency-Key: key`."""
    if write.body is None:
        return client.generic(write.method, write.path, HTTP_IDEMPOTENCY_KEY=key, **headers)
    return client.generic(
        write.method,
        write.path,
        json.dumps(write.body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
        **headers,
    )
