"""A PostgreSQL restart and an outage, seen by gunicorn with warm connection pools.

The server is a copy of the suite's throwaway cluster (tests/clusters.py), so the test can
restart and stop it without disturbing the rest of the suite; the copy holds the test
database with the product and API key this test committed before copying it.
"""

import json
import os
import secrets
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.clusters import HAVE_PG_BINARIES, cluster_copy
from tests.factories import ProductFactory
from tests.servers import gunicorn_servers

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAVE_PG_BINARIES, reason="needs PostgreSQL 15 server binaries"),
]

POOL_TIMEOUT = 2  # seconds a request waits for a connection during the outage


def get(url: str, key: str) -> tuple[int, dict, dict]:
    """GET `url`; return (status, headers, JSON body), errors included."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.load(error)


def test_a_restart_gives_no_5xx_and_an_outage_answers_503_with_retry_after(make_api_key):
    product = ProductFactory()
    _, key = make_api_key(scopes=["products:read"])
    with cluster_copy(connection.settings_dict) as cluster:
        db = connection.settings_dict
        env = {
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "techparts.settings",
            "DEBUG": "false",
            "HTTPS": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{cluster.port}/{db['NAME']}",
            "API_RATE_LIMIT_READ": "",
            "API_RATE_LIMIT_WRITE": "",
            # Warm pools: four threads, four connections open in each process's pool.
            "GUNICORN_CMD_ARGS": "--threads 4",
            "DB_POOL": "true",
            "DB_POOL_MIN_SIZE": "4",
            "DB_POOL_TIMEOUT": str(POOL_TIMEOUT),
        }
        with gunicorn_servers(env, count=2) as ports, ThreadPoolExecutor(8) as threads:
            urls = [f"http://127.0.0.1:{port}/v1/products/{product.public_id}" for port in ports]

            def burst(count: int) -> list[tuple[int, dict, dict]]:
                return list(threads.map(lambda n: get(urls[n % 2], key), range(count)))

            assert {status for status, _, _ in burst(16)} == {200}

            cluster.pg_ctl("restart", "-m", "immediate")
            after_restart = [get(urls[n % 2], key)[0] for n in range(40)]

            assert [status for status in after_restart if status >= 500] == []

            # An outage of some seconds, with requests throughout: long enough for the pools'
            # reconnection attempts to back off (psycopg_pool: 1, 2, 4 s... between them).
            cluster.pg_ctl("stop", "-m", "immediate")
            during_outage = [answer for _ in range(4) for answer in burst(4)]

            for status, headers, body in during_outage:
                assert status == 503
                assert headers["Retry-After"] == "5"
                assert body == {
                    "error": "service_unavailable",
                    "message": "The service is temporarily unavailable. Retry in 5 seconds.",
                }

            cluster.pg_ctl("start")
            after_outage = [get(urls[n % 2], key)[0] for n in range(40)]

            assert [status for status in after_outage if status >= 500] == []
