"""The production role split on PostgreSQL: migrations as the owner, the app as a lesser role.

A database of its own in the test cluster, set up exactly as `make serve` does it
(`manage.py migrate_and_grant` with DATABASE_OWNER_URL), then used as the app role.
"""

import os
import secrets

import psycopg
import pytest
from django.conf import settings
from psycopg import errors, sql

from tests.servers import manage

pytestmark = pytest.mark.postgres


def _url(db: dict, user: str, password: str, name: str) -> str:
    return f"postgres://{user}:{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{name}"


@pytest.fixture(scope="module")
def split():
    """A fresh database owned by a new owner role, migrated as it, used by a new app role."""
    db = settings.DATABASES["default"]
    admin_url = _url(db, db["USER"], db["PASSWORD"] or "", "postgres")
    suffix = secrets.token_hex(4)
    owner, app, name = f"tp_owner_{suffix}", f"tp_app_{suffix}", f"tp_roles_{suffix}"
    password = secrets.token_hex(16)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        (can,) = admin.execute(
            "SELECT rolsuper OR (rolcreaterole AND rolcreatedb) FROM pg_roles "
            "WHERE rolname = current_user"
        ).fetchone()
        if not can:
            pytest.skip("the test database user cannot create roles and databases")
        for role in (owner, app):
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(owner)
            )
        )
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "techparts.settings",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": _url(db, app, password, name),
        "DATABASE_OWNER_URL": _url(db, owner, password, name),
    }
    try:
        migrated = manage(env, "migrate_and_grant", "--verbosity", "0")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        yield {"env": env, "owner": owner, "app": app}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            for role in (app, owner):
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture(scope="module")
def seeded(split):
    # The app's own code as the app role: products, stock records and their ledger rows.
    result = manage(
        {k: v for k, v in split["env"].items() if k != "DATABASE_OWNER_URL"}, "seed_demo"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return split


def _connect(split, which: str, autocommit: bool = False) -> psycopg.Connection:
    key = "DATABASE_URL" if which == "app" else "DATABASE_OWNER_URL"
    return psycopg.connect(split["env"][key], autocommit=autocommit)


def _ledger(conn) -> tuple[int, int]:
    return conn.execute(
        "SELECT count(*), sum(on_hand_delta) FROM inventory_stockmovement"
    ).fetchone()


def _refused(conn, statement: str, refusal_class=errors.InsufficientPrivilege) -> str:
    """Run `statement` in a savepoint; return PostgreSQL's refusal (fail if it went through)."""
    try:
        with conn.transaction():
            conn.execute(statement)
    except refusal_class as refusal:
        return str(refusal)
    pytest.fail(f"{statement!r} was not refused")


def test_the_app_role_appends_to_the_ledger_but_cannot_rewrite_or_empty_it(seeded):
    with _connect(seeded, "app") as conn:
        count, units = _ledger(conn)
        # seed_demo, run as the app role, opened the demo stock through the ledger.
        (on_hand,) = conn.execute("SELECT sum(on_hand) FROM inventory_stockrecord").fetchone()
        assert count > 60
        assert units == on_hand

        for statement in [
            "UPDATE inventory_stockmovement SET on_hand_delta = 0",
            "DELETE FROM inventory_stockmovement",
            "TRUNCATE inventory_stockmovement",
            "TRUNCATE inventory_stockmovement CASCADE",
            "TRUNCATE catalog_product CASCADE",
        ]:
            assert "permission denied" in _refused(conn, statement)

        assert _ledger(conn) == (count, units)


def test_the_app_role_cannot_reach_any_bypass_of_the_ledger_guard(seeded):
    owner = sql.Identifier(seeded["owner"]).as_string()
    with _connect(seeded, "app") as conn:
        before = _ledger(conn)

        assert "permission denied to set parameter" in _refused(
            conn, "SET session_replication_role = replica"
        )
        assert "must be owner" in _refused(
            conn, "ALTER TABLE inventory_stockmovement DISABLE TRIGGER ALL"
        )
        assert "permission denied" in _refused(conn, f"SET ROLE {owner}")
        assert "permission denied" in _refused(conn, f"SET SESSION AUTHORIZATION {owner}")

    app_env = {k: v for k, v in seeded["env"].items() if k != "DATABASE_OWNER_URL"}
    flushed = manage(app_env, "flush", "--noinput", "--traceback")
    assert flushed.returncode != 0
    assert "must be owner" in flushed.stderr
    with _connect(seeded, "app") as conn:
        assert _ledger(conn) == before


def test_no_setting_the_app_role_may_change_lets_it_truncate_the_ledger(seeded):
    conn = _connect(seeded, "app", autocommit=True)
    try:
        before = _ledger(conn)
        settable = conn.execute(
            "SELECT name, vartype, enumvals FROM pg_settings "
            "WHERE context = 'user' AND vartype IN ('bool', 'enum')"
        ).fetchall()
        tried = 0
        for name, vartype, enumvals in settable:
            for value in ["on", "off"] if vartype == "bool" else enumvals:
                if conn.closed:  # exit_on_error = on ended the session at the refusal itself
                    conn = _connect(seeded, "app", autocommit=True)
                try:
                    conn.execute(
                        sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
                    )
                except psycopg.Error:
                    continue  # not a value this server takes
                # Refused for any reason (a read-only transaction, say) is refused.
                _refused(conn, "TRUNCATE inventory_stockmovement CASCADE", psycopg.Error)
                tried += 1
                if not conn.closed:
                    conn.execute("RESET ALL")
    finally:
        conn.close()

    assert tried > 100
    with _connect(seeded, "app") as conn:
        assert _ledger(conn) == before


def test_the_owner_cannot_truncate_the_ledger_either(seeded):
    with _connect(seeded, "owner") as conn:
        before = _ledger(conn)

        assert "append-only: TRUNCATE refused" in _refused(conn, "TRUNCATE inventory_stockmovement")

        assert _ledger(conn) == before


def test_tables_that_later_migrations_create_are_usable_by_the_app_role(split):
    with _connect(split, "owner") as owner:
        owner.execute(
            "CREATE TABLE later_feature (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
            " note text NOT NULL)"
        )
        owner.commit()
    with _connect(split, "app") as app:
        (row_id,) = app.execute(
            "INSERT INTO later_feature (note) VALUES ('new') RETURNING id"
        ).fetchone()
        app.execute("UPDATE later_feature SET note = 'changed' WHERE id = %s", [row_id])
        assert app.execute("SELECT note FROM later_feature").fetchall() == [("changed",)]
        app.execute("DELETE FROM later_feature")
        assert app.execute("SELECT count(*) FROM later_feature").fetchone() == (0,)


def test_each_deploy_takes_back_ledger_rights_granted_since(split):
    app = sql.Identifier(split["app"]).as_string()
    with _connect(split, "owner") as owner:
        # What default privileges would give a ledger table that a later migration rebuilt.
        owner.execute(f"GRANT ALL ON inventory_stockmovement TO {app}")
        owner.commit()

    again = manage(split["env"], "migrate_and_grant", "--verbosity", "0")

    assert again.returncode == 0, again.stdout + again.stderr
    with _connect(split, "app") as conn:
        assert "permission denied" in _refused(
            conn, "UPDATE inventory_stockmovement SET reason = 'x'"
        )
        assert "permission denied" in _refused(conn, "TRUNCATE inventory_stockmovement")


def test_grant_app_role_refuses_a_role_that_could_undo_it(split):
    owner_env = {**split["env"], "DATABASE_URL": split["env"]["DATABASE_OWNER_URL"]}
    app_env = {k: v for k, v in split["env"].items() if k != "DATABASE_OWNER_URL"}

    as_owner = manage(owner_env, "grant_app_role", split["owner"])
    as_app = manage(app_env, "grant_app_role", split["app"])

    assert as_owner.returncode != 0
    assert "is or may act as the tables' owner" in as_owner.stderr
    assert as_app.returncode != 0
    assert "Run this as the role that owns the tables" in as_app.stderr
