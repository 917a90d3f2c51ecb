"""Hot-SKU contention: many clients placing multi-line orders over a few shared SKUs.

A Python load generator rather than wrk: each client needs its own API key (separate
integrators, so only the SKUs are shared), a per-client SKU pool in the disjoint case, and
each answer's status and error body kept, which wrk's Lua can do only per thread and slowly.
Threads with one keep-alive http.client connection each are enough: the server, not the
client, is the bottleneck, and both cases pay the same client cost.
"""

import http.client
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.endpoints import order_body


@dataclass
class ContentionResult:
    orders: int = 0
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    error_samples: list = field(default_factory=list)
    deadlock_bodies: int = 0

    @property
    def throughput(self) -> float:
        return self.orders / self.seconds if self.seconds else 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def as_dict(self) -> dict:
        return {
            "orders": self.orders,
            "seconds": self.seconds,
            "throughput": self.throughput,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "server_errors": self.server_errors,
            "deadlock_bodies": self.deadlock_bodies,
            "error_samples": self.error_samples[:5],
        }


def run(
    *,
    host: str,
    port: int,
    keys: list[str],
    pools: list[list[int]],
    lines: int,
    seconds: float,
    seed: int,
) -> ContentionResult:
    """Let client i order `lines` of pools[i] (shuffled) with keys[i] until `seconds` pass."""
    result = ContentionResult()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    start = threading.Barrier(len(keys) + 1)

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        connection = http.client.HTTPConnection(host, port, timeout=60)
        headers = {
            "Authorization": f"Bearer {keys[index]}",
            "X-Forwarded-Proto": "https",
            "Content-Type": "application/json",
        }
        start.wait()
        while time.monotonic() < deadline:
            numbers = rng.sample(pools[index], lines)  # a random subset, in shuffled order
            connection.request("POST", "/v1/orders", json.dumps(order_body(numbers)), headers)
            response = connection.getresponse()
            body = response.read()
            with lock:
                result.statuses[response.status] += 1
                if response.status == 201:
                    result.orders += 1
                else:
                    if b"deadlock" in body.lower():
                        result.deadlock_bodies += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(f"{response.status} {body[:200]!r}")
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(keys))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - began
    return result


def shared_pools(*, clients: int, skus: int, first: int) -> list[list[int]]:
    """Every client draws from the same `skus` products."""
    pool = list(range(first, first + skus))
    return [pool] * clients


def disjoint_pools(*, clients: int, lines: int, first: int) -> list[list[int]]:
    """Each client has its own `lines` products, shared with nobody."""
    return [list(range(first + i * lines, first + (i + 1) * lines)) for i in range(clients)]
