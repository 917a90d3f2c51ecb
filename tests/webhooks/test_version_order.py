"""One SKU's changes in order, under real lock waits and a burst of parallel clients (PostgreSQL).

A transaction takes its id at its first write or row lock, not at commit, and the feed, the
events and the fan-out list rows by (transaction id, row id). A bulk call that locks X, waits
for W and then writes Y is listed before a PATCH of Y that committed while it waited: the later
change of Y comes first. Versions say which is newer: a consumer that applies a change only if
its version is newer than the one it holds ends at the database's state, and the fan-out
delivers each SKU's changes in version order.
"""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from inventory.models import StockMovement, StockRecord
from inventory.selectors import stock_mismatches
from tests.factories import CustomerFactory, ProductFactory, TaxRateFactory, WebhookEndpointFactory
from tests.orders.conftest import order_body
from tests.webhooks.receivers import verified
from webhooks.delivery import deliveries_run
from webhooks.models import Delivery

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 20  # seconds; only a broken test waits this long


class Worker(threading.Thread):
    """Run `work` on this thread's own database connection; keep its result or error."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work = work
        self.result = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as exc:  # re-raised on the test's thread
            self.error = exc
        finally:
            connection.close()

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), "worker hung"
        if self.error is not None:
            raise self.error
        return self.result


def api(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def wait_until_a_backend_waits_for_a_lock() -> None:
    deadline = time.monotonic() + WAIT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise TimeoutError("the bulk call never waited for the lock")


def read_all(client: APIClient, url: str, **query) -> list[dict]:
    """Every row of a cursor-paged feed (the change feed, or GET /v1/events), in its order."""
    rows: list[dict] = []
    after = None
    while True:
        response = client.get(url, {**query, "limit": 1000, **({"after": after} if after else {})})
        assert response.status_code == 200, response.json()
        body = response.json()
        rows += body["results"]
        after = body["next_cursor"]
        if not body["has_more"]:
            return rows


def by_version(changes: list[tuple[str, int | None, int, int]]) -> dict[str, tuple[int, int]]:
    """What a consumer holds after applying (sku, version, on hand, reserved) changes in the
    order given, each only if its version is newer than the one it holds (docs/sync.md)."""
    held: dict[str, tuple[int, int, int]] = {}
    for sku, version, on_hand, reserved in changes:
        if sku not in held or version > held[sku][0]:
            held[sku] = (version, on_hand, reserved)
    return {sku: (on_hand, reserved) for sku, (_, on_hand, reserved) in held.items()}


def in_arrival_order(changes) -> dict[str, tuple[int, int]]:
    """What a consumer holds that applies every change as it comes (the broken way)."""
    return {sku: (on_hand, reserved) for sku, _, on_hand, reserved in changes}


def database() -> dict[str, tuple[int, int]]:
    return {
        sku: (on_hand, reserved)
        for sku, on_hand, reserved in StockRecord.objects.values_list(
            "product__sku", "on_hand", "reserved"
        )
    }


def feed_changes(client) -> list[tuple[str, int, int, int]]:
    return [
        (row["sku"], row["version"], row["quantity_after"], row["reserved_after"])
        for row in read_all(client, "/v1/inventory/changes")
    ]


def event_changes(client) -> list[tuple[str, int, int, int]]:
    return [
        (e["data"]["sku"], e["data"]["version"], e["data"]["quantity_after"], e["data"]["reserved_after"])
        for e in read_all(client, "/v1/events", type="inventory.changed")
    ]  # fmt: skip


def webhook_changes(receiver, endpoint) -> list[tuple[str, int, int, int]]:
    bodies = [verified(request, endpoint.plain_secret) for request in receiver.answered(200)]
    return [
        (b["data"]["sku"], b["data"]["version"], b["data"]["quantity_after"], b["data"]["reserved_after"])
        for b in bodies
    ]  # fmt: skip


def inversions(changes) -> int:
    """How many changes came after a change of the same SKU with a higher version."""
    highest: dict[str, int] = {}
    late = 0
    for sku, version, _, _ in changes:
        late += version < highest.get(sku, 0)
        highest[sku] = max(version, highest.get(sku, 0))
    return late


def delivery_versions_in_id_order() -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {}
    rows = Delivery.objects.order_by("id").values_list("subject", "event__data")
    for subject, data in rows:
        seen.setdefault(subject, []).append(data["version"])
    return seen


def test_a_bulk_call_waiting_for_a_lock_is_listed_first_and_versions_put_it_right(
    client_for, receiver
):
    x = ProductFactory(sku="SKU-X", stock=10)
    w = ProductFactory(sku="SKU-W", stock=10)
    y = ProductFactory(sku="SKU-Y", stock=24)
    assert x.pk < w.pk < y.pk  # the bulk call locks in product order: X, then W, then Y
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])
    writer = client_for("inventory:write", "inventory:read").raw_key
    reader = api(client_for("inventory:read").raw_key)
    locked, release = threading.Event(), threading.Event()

    def hold_w() -> None:  # psql's "SELECT ... FOR UPDATE" on W's stock row, held
        with transaction.atomic():
            StockRecord.objects.select_for_update().get(product=w)
            locked.set()
            release.wait(WAIT)

    def bulk() -> int:
        items = [{"sku": sku, "adjust_by": 1} for sku in ("SKU-X", "SKU-W", "SKU-Y")]
        return api(writer).post("/v1/inventory/bulk", {"items": items}, format="json").status_code

    holder = Worker(hold_w)
    holder.start()
    assert locked.wait(WAIT)
    bulk_call = Worker(bulk)
    bulk_call.start()
    try:
        wait_until_a_backend_waits_for_a_lock()  # the bulk call holds X and waits for W
        patched = api(writer).patch("/v1/inventory/SKU-Y", {"quantity": 77}, format="json")
        assert patched.status_code == 200
    finally:
        release.set()
        holder.finish()
    assert bulk_call.finish() == 200

    # The inversion happened: the bulk row of Y (77 -> 78) is the newer version, yet its
    # transaction id is the lower one, so the feed lists it first.
    patch_row = StockMovement.objects.get(product=y, on_hand_after=77)
    bulk_row = StockMovement.objects.get(product=y, on_hand_after=78)
    assert (patch_row.version, bulk_row.version) == (2, 3)
    assert bulk_row.xact < patch_row.xact
    feed = feed_changes(reader)
    assert [(v, q) for sku, v, q, _ in feed if sku == "SKU-Y"] == [(1, 24), (3, 78), (2, 77)]
    assert in_arrival_order(feed)["SKU-Y"] == (77, 0)  # what applying in feed order gives
    truth = database()
    assert truth["SKU-Y"] == (78, 0)

    # Consumers applying the version rule end at the database, from the feed and the events.
    assert by_version(feed) == truth
    events = event_changes(reader)
    assert inversions(events) == 1
    assert by_version(events) == truth

    # Webhooks: the fan-out delivers Y's changes in version order (the bulk row's delivery is
    # created after the PATCH's), so even a receiver applying them as they come is right.
    deliveries_run()
    arrived = webhook_changes(receiver, endpoint)
    assert [(v, q) for sku, v, q, _ in arrived if sku == "SKU-Y"] == [(2, 77), (3, 78)]
    assert inversions(arrived) == 0
    assert by_version(arrived) == {sku: truth[sku] for sku in ("SKU-X", "SKU-W", "SKU-Y")}
    assert in_arrival_order(arrived) == by_version(arrived)
    assert stock_mismatches() == []


CLIENTS = 8
REQUESTS_PER_CLIENT = 24  # with bulk calls and orders of several lines: over 300 changes
BURST_SKUS = 4


def burst_client(raw_key: str, seed: int, skus: list[str], public_ids: list[str], barrier):
    """Mixed writes over the shared SKUs: PATCH, bulk (several SKUs), orders and cancels."""
    rng = random.Random(seed)
    client = api(raw_key)
    statuses = []
    barrier.wait(timeout=WAIT)
    for _ in range(REQUESTS_PER_CLIENT):
        action = rng.choice(["patch", "bulk", "order", "order"])
        if action == "patch":
            sku = rng.choice(skus)
            response = client.patch(
                f"/v1/inventory/{sku}", {"quantity": rng.randint(400, 600)}, format="json"
            )
        elif action == "bulk":
            items = [{"sku": sku, "adjust_by": rng.choice([-2, -1, 1, 2, 3])} for sku in skus]
            rng.shuffle(items)
            response = client.post("/v1/inventory/bulk", {"items": items}, format="json")
        else:
            lines = rng.sample(public_ids, 3)
            response = client.post(
                "/v1/orders",
                order_body(*[(pid, rng.randint(1, 2)) for pid in lines]),
                format="json",
            )
            if response.status_code == 201 and rng.random() < 0.3:
                statuses.append(response.status_code)
                response = client.post(f"/v1/orders/{response.json()['order_id']}/cancel")
        statuses.append(response.status_code)
    return statuses


def test_a_burst_of_parallel_changes_is_delivered_in_version_order_per_sku(client_for, receiver):
    CustomerFactory(customer_id="CUST-789012")
    TaxRateFactory(state="CA", rate=Decimal("0.08"))
    products = [ProductFactory(stock=500) for _ in range(BURST_SKUS)]
    skus = [product.sku for product in products]
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])
    keys = [client_for(owner=f"burst-{n}").raw_key for n in range(CLIENTS)]
    reader = api(client_for("inventory:read").raw_key)
    barrier = threading.Barrier(CLIENTS)

    def run(seed: int, key: str):
        try:
            return burst_client(key, seed, skus, [p.public_id for p in products], barrier)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(run, seed, key) for seed, key in enumerate(keys)]
        statuses = [status for future in futures for status in future.result()]

    assert set(statuses) <= {200, 201}, statuses
    changes = StockMovement.objects.filter(product__in=products).count() - BURST_SKUS
    assert changes >= 300
    truth = database()

    feed = feed_changes(reader)
    events = event_changes(reader)
    deliveries_run()
    arrived = webhook_changes(receiver, endpoint)

    assert len(arrived) == changes  # every change since the opening counts, once
    assert inversions(arrived) == 0
    assert all(
        versions == sorted(versions) for versions in delivery_versions_in_id_order().values()
    )
    assert by_version(arrived) == truth
    assert in_arrival_order(arrived) == truth
    assert by_version(feed) == truth
    assert by_version(events) == truth
    assert stock_mismatches() == []
