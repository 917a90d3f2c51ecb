"""Production database settings from the environment: pool, PgBouncer mode, replicas."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from techparts.settings import DB_KEEPALIVES
from tests.servers import ROOT, database_url

PRIMARY = "postgres://app@db:5432/techparts"


def database_settings(**env: str) -> dict | str:
    """Load the production settings with `env` in a fresh process; return DATABASES or the error."""
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "techparts.settings",
            "DATABASE_URL": PRIMARY,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(result.stdout) if result.returncode == 0 else result.stderr


def test_postgresql_connections_come_from_a_pool_sized_from_the_environment():
    default = database_settings(DB_POOL_MAX_SIZE="8", DB_POOL_MIN_SIZE="2")["default"]

    assert default["ENGINE"] == "techparts.database.postgresql"
    assert default["OPTIONS"]["pool"] == {
        "min_size": 2,
        "max_size": 8,
        "timeout": 10,
        "reconnect_timeout": 2,
    }
    assert default["CONN_MAX_AGE"] == 0
    # The pool checks a connection before lending it (techparts.database.postgresql).
    assert default["CONN_HEALTH_CHECKS"] is True
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is False


def test_pool_off_means_health_checked_persistent_connections():
    default = database_settings(DB_POOL="false", CONN_MAX_AGE="60")["default"]

    assert "pool" not in default["OPTIONS"]
    assert (default["CONN_MAX_AGE"], default["CONN_HEALTH_CHECKS"]) == (60, True)


def test_pgbouncer_transaction_mode_turns_off_server_side_cursors_and_prepared_statements():
    databases = database_settings(
        PGBOUNCER_TRANSACTION_MODE="true",
        DATABASE_REPLICA_URL="postgres://app@r1:5432/techparts",
        REDIS_URL="redis://cache:6379/0",
    )

    for alias in ("default", "replica_1"):
        assert databases[alias]["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert databases[alias]["OPTIONS"]["prepare_threshold"] is None


def test_each_replica_url_is_an_alias_that_mirrors_the_primary_in_tests():
    databases = database_settings(
        DATABASE_REPLICA_URL="postgres://app@r1:5432/techparts, postgres://app@r2:5433/techparts",
        REDIS_URL="redis://cache:6379/0",
    )

    assert sorted(databases) == ["default", "replica_1", "replica_2"]
    assert (databases["replica_2"]["HOST"], databases["replica_2"]["PORT"]) == ("r2", 5433)
    assert databases["replica_1"]["TEST"] == {"MIRROR": "default"}
    assert databases["replica_1"]["ENGINE"] == "techparts.database.postgresql"


def test_replicas_without_redis_are_refused():
    # The read-your-writes mark must be seen by every app process.
    error = database_settings(DATABASE_REPLICA_URL="postgres://app@r1:5432/techparts")

    assert "DATABASE_REPLICA_URL needs REDIS_URL" in error


def test_postgresql_connections_bound_idle_transactions_and_detect_vanished_peers():
    default = database_settings()["default"]

    assert default["OPTIONS"]["options"] == (
        "-c idle_in_transaction_session_timeout=30s -c tcp_keepalives_idle=20 "
        "-c tcp_keepalives_interval=10 -c tcp_keepalives_count=3"
    )
    assert {k: default["OPTIONS"][k] for k in DB_KEEPALIVES} == DB_KEEPALIVES


def test_behind_pgbouncer_no_startup_options_are_sent_but_keepalives_are():
    default = database_settings(PGBOUNCER_TRANSACTION_MODE="true")["default"]

    assert "options" not in default["OPTIONS"]
    assert {k: default["OPTIONS"][k] for k in DB_KEEPALIVES} == DB_KEEPALIVES


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_new_production_connection_has_the_idle_transaction_limit_and_keepalives():
    code = (
        "import json; from django.db import connection; cursor = connection.cursor(); "
        "names = ['idle_in_transaction_session_timeout', 'tcp_keepalives_idle', "
        "'tcp_keepalives_interval', 'tcp_keepalives_count']; "
        "shown = {n: cursor.execute(f'SHOW {n}').fetchone()[0] for n in names}; "
        "params = connection.connection.info.get_parameters(); "
        "print(json.dumps([shown, {k: v for k, v in params.items() if 'keepalives' in k}]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "techparts.settings",
            "DATABASE_URL": database_url(connection.settings_dict),
            "DB_POOL": "false",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    shown, client = json.loads(result.stdout)
    assert shown == {
        "idle_in_transaction_session_timeout": "30s",
        "tcp_keepalives_idle": "20",
        "tcp_keepalives_interval": "10",
        "tcp_keepalives_count": "3",
    }
    assert client == {
        "keepalives": "1",
        "keepalives_idle": "20",
        "keepalives_interval": "10",
        "keepalives_count": "3",
    }
