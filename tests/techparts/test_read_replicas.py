"""Read replicas, against a real streaming standby of the test cluster with replay paused.

The standby is a `pg_basebackup` copy of the whole throwaway cluster (so it holds the test
database under the same name), started on its own port and socket folder with the primary's
max_connections. Pausing its replay creates lag on purpose; two gunicorn processes sharing
Redis then show which reads see what.
"""

import json
import os
import shutil
import time
import urllib.request

import psycopg
import pytest
from django.db import connection

from catalog.models import Product
from tests.clusters import HAVE_PG_BINARIES, cluster_copy
from tests.factories import ProductFactory
from tests.servers import gunicorn_servers

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not HAVE_PG_BINARIES or shutil.which("redis-server") is None,
        reason="needs PostgreSQL 15 server binaries and redis-server",
    ),
]


def standby_lsn_reached(standby: psycopg.Connection, lsn: str) -> bool:
    row = standby.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()
    return bool(row[0])


def wait_for_replay(standby: psycopg.Connection, seconds: float = 60) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    # The insert position, not the write position: with synchronous_commit off (the throwaway
    # cluster) a commit can sit in the WAL buffers, ahead of what has been written out.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        lsn = cursor.fetchone()[0]
    deadline = time.monotonic() + seconds
    while not standby_lsn_reached(standby, lsn):
        if time.monotonic() > deadline:
            raise RuntimeError("the standby did not catch up")
        time.sleep(0.1)


def get_json(url: str, key: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def patch_json(url: str, key: str, body: dict) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


@pytest.fixture
def standby():
    """Start a streaming standby of the test cluster; yield its port; remove it, pass or fail."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        max_connections = cursor.fetchone()[0]
    # A hot standby needs at least the primary's max_connections.
    with cluster_copy(
        connection.settings_dict,
        standby=True,
        server_options=f"-c max_connections={max_connections}",
    ) as cluster:
        yield cluster.port


def test_reads_see_the_replica_except_an_owner_that_just_wrote(standby, redis_url, make_api_key):
    db = connection.settings_dict
    product = ProductFactory(name="Old name", stock=10)
    _, writer = make_api_key(owner="erp_sync")
    _, reader = make_api_key(owner="storefront", scopes=["products:read"])
    primary = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "techparts.settings",
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": "replica-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": primary,
        "DATABASE_REPLICA_URL": f"postgres://{db['USER']}@127.0.0.1:{standby}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "API_RATE_LIMIT_READ": "",
        "API_RATE_LIMIT_WRITE": "",
        "REPLICA_READ_YOUR_WRITES_SECONDS": "600",
    }
    with (
        psycopg.connect(
            host="127.0.0.1", port=standby, user=db["USER"], dbname=db["NAME"], autocommit=True
        ) as replica,
        gunicorn_servers(env, count=2) as ports,
    ):
        urls = [f"http://127.0.0.1:{port}/v1/products/{product.public_id}" for port in ports]
        wait_for_replay(replica)
        replica.execute("SELECT pg_wal_replay_pause()")

        # A product change on the primary: the primary has it, the paused replica does not.
        Product.objects.filter(pk=product.pk).update(name="New name")
        assert Product.objects.get(pk=product.pk).name == "New name"
        assert [get_json(url, reader)["name"] for url in urls] == ["Old name"] * 2

        # The writer's own write, then its reads on either process: it sees the write.
        inventory = f"http://127.0.0.1:{ports[0]}/v1/inventory/{product.sku}"
        assert patch_json(inventory, writer, {"quantity": 3, "reason": "Recount"}) == 200
        seen_by_writer = [get_json(url, writer) for url in urls]
        assert [(p["name"], p["stock"]) for p in seen_by_writer] == [("New name", 3)] * 2
        # Another owner still reads the paused replica: stale, as documented.
        seen_by_reader = [get_json(url, reader) for url in urls]
        assert [(p["name"], p["stock"]) for p in seen_by_reader] == [("Old name", 10)] * 2

        # Replay resumed, every reader catches up.
        replica.execute("SELECT pg_wal_replay_resume()")
        wait_for_replay(replica)
        assert get_json(urls[1], reader)["stock"] == 3
