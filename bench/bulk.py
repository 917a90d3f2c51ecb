"""Bulk stock writes against single ones: 2,000 SKUs in one POST /v1/inventory/bulk call vs
2,000 PATCH /v1/inventory/{sku} calls, over HTTP to the same server.

One keep-alive connection, one request at a time: what a warehouse system syncing its counts
pays per SKU either way. The target (issue 11): the bulk call's cost per item at most 1/25 of
one PATCH round trip, i.e. the whole call within the time of 80 PATCH calls.
"""

import http.client
import json
import statistics
import time
from dataclasses import dataclass

ITEMS = 2000
RATIO_TARGET = 1 / 25  # bulk time per item / one PATCH round trip


@dataclass
class BulkComparison:
    items: int
    patch_seconds: float  # all ITEMS PATCH calls, one after another
    bulk_samples_ms: list[float]
    bad_statuses: dict[str, int]
    answer_bytes: int

    @property
    def patch_round_trip_ms(self) -> float:
        return self.patch_seconds * 1000 / self.items

    @property
    def bulk_ms(self) -> float:
        return statistics.median(self.bulk_samples_ms)

    @property
    def ratio(self) -> float:
        """The bulk call's time per item as a fraction of one PATCH round trip."""
        return (self.bulk_ms / self.items) / self.patch_round_trip_ms

    def as_dict(self) -> dict:
        return {
            "items": self.items,
            "patch_seconds": self.patch_seconds,
            "patch_round_trip_ms": self.patch_round_trip_ms,
            "bulk_samples_ms": self.bulk_samples_ms,
            "bulk_ms": self.bulk_ms,
            "bulk_per_item_ms": self.bulk_ms / self.items,
            "ratio": self.ratio,
            "target": RATIO_TARGET,
            "bad_statuses": self.bad_statuses,
            "answer_bytes": self.answer_bytes,
        }


def sku(number: int) -> str:
    """The SKU of synthetic product `number` (seed_demo --products)."""
    return f"SYN-{number:07d}"


def run(*, host: str, port: int, key: str, first: int, samples: int) -> BulkComparison:
    """Time ITEMS PATCH calls on products first..first+ITEMS-1, then `samples` bulk calls.

    Every call changes every count it names (the quantities alternate), so each writes its
    ledger rows: an unchanged count would cost neither side a write.
    """
    connection = http.client.HTTPConnection(host, port, timeout=120)
    headers = {
        "Authorization": f"Bearer {key}",
        "X-Forwarded-Proto": "https",
        "Content-Type": "application/json",
    }
    numbers = range(first, first + ITEMS)
    bad: dict[str, int] = {}

    def send(method: str, path: str, body: dict) -> bytes:
        connection.request(method, path, json.dumps(body), headers)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            bad[str(response.status)] = bad.get(str(response.status), 0) + 1
        return data

    def bulk(quantity: int) -> bytes:
        items = [
            {"sku": sku(n), "quantity": quantity, "reason_code": "cycle_count"} for n in numbers
        ]
        return send("POST", "/v1/inventory/bulk", {"reference": "bench://bulk", "items": items})

    bulk(9000)  # warm: both code paths' first use in this process, all counts at 9000
    send("PATCH", f"/v1/inventory/{sku(first)}", {"quantity": 9000})
    started = time.perf_counter()
    for n in numbers:
        send("PATCH", f"/v1/inventory/{sku(n)}", {"quantity": 9001, "reason_code": "cycle_count"})
    patch_seconds = time.perf_counter() - started
    timings, answer = [], b""
    for sample in range(samples):
        started = time.perf_counter()
        answer = bulk(9002 if sample % 2 == 0 else 9001)
        timings.append((time.perf_counter() - started) * 1000)
    connection.close()
    return BulkComparison(ITEMS, patch_seconds, timings, bad, len(answer))
