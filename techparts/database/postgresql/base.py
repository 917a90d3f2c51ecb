"""Django's PostgreSQL backend: a checked pool, and a flush that can empty the stock ledger.

The pool (DB_POOL) checks a connection before lending it, and when one fails that check it
throws away every idle connection at once: a server restart or failover ends them all
together, and psycopg's pool would otherwise try them one by one, backing off 1, 2, 4, 8
seconds between tries, so that a request could time out on dead connections while the
server is already back. Django 5.2 builds the pool itself and sets its `check` from
CONN_HEALTH_CHECKS (a `check` among the pool options is a TypeError), so `pool` below builds
it as Django does, with this check. A connection that breaks during a request is given back
as broken, and the pool replaces it rather than lend it again.

The ledger refuses TRUNCATE with a BEFORE TRUNCATE trigger (inventory migration 0005), yet
`manage.py flush` and the test runner's flush between transactional tests must empty it. The
flush therefore disables every TRUNCATE-refusing trigger inside its own transaction, truncates,
and enables them again before the commit, so no other session ever sees them off. PostgreSQL
allows ALTER TABLE ... DISABLE TRIGGER only to the table's owner or a superuser: the app role
of the production role split (docs/operations.md) cannot take this route.
"""

import psycopg
from django.db import transaction
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base, operations
from psycopg_pool import ConnectionPool

# pg_trigger.tgtype bit for ON TRUNCATE triggers (TRIGGER_TYPE_TRUNCATE in PostgreSQL's source).
TRIGGER_TYPE_TRUNCATE = 1 << 5

TRUNCATE_GUARDS_SQL = """
SELECT format('ALTER TABLE %%s DISABLE TRIGGER %%I', t.tgrelid::regclass, t.tgname),
       format('ALTER TABLE %%s ENABLE TRIGGER %%I', t.tgrelid::regclass, t.tgname)
FROM pg_trigger t
WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND t.tgtype & %s <> 0
  AND pg_table_is_visible(t.tgrelid)
ORDER BY t.tgrelid, t.tgname
"""


class DatabaseOperations(operations.DatabaseOperations):
    def execute_sql_flush(self, sql_list):
        with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            cursor.execute(TRUNCATE_GUARDS_SQL, [TRIGGER_TYPE_TRUNCATE])
            guards = cursor.fetchall()
            for disable, _ in guards:
                cursor.execute(disable)
            for sql in sql_list:
                cursor.execute(sql)
            for _, enable in guards:
                cursor.execute(enable)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    @property
    def pool(self) -> ConnectionPool | None:
        options = self.settings_dict["OPTIONS"].get("pool")
        if (
            options
            and self.settings_dict["CONN_HEALTH_CHECKS"]
            and self.settings_dict.get("CONN_MAX_AGE", 0) == 0  # else Django refuses, below
            and self.alias != NO_DB_ALIAS
            and self.alias not in self._connection_pools
        ):
            # setdefault: threads racing here at startup keep the first pool, as in Django.
            self._connection_pools.setdefault(self.alias, self._checked_pool(options))
        return super().pool

    def _checked_pool(self, options: dict | bool) -> ConnectionPool:
        def check(connection: psycopg.Connection) -> None:
            try:
                ConnectionPool.check_connection(connection)
            except psycopg.Error:
                # Dead: so are its idle siblings, most likely. New ones open at once.
                pool.drain()
                raise

        kwargs = self.get_connection_params()
        kwargs["autocommit"] = True  # Django sets the connection's own mode when it borrows it
        pool = ConnectionPool(
            kwargs=kwargs,
            open=False,
            configure=self._configure_connection,
            check=check,
            **({} if options is True else options),
        )
        return pool
