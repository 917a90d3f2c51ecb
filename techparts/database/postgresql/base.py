"""Django's PostgreSQL backend, with a flush that can empty the append-only stock ledger.

The ledger refuses TRUNCATE with a BEFORE TRUNCATE trigger (inventory migration 0005), yet
`manage.py flush` and the test runner's flush between transactional tests must empty it. The
flush therefore disables every TRUNCATE-refusing trigger inside its own transaction, truncates,
and enables them again before the commit, so no other session ever sees them off. PostgreSQL
allows ALTER TABLE ... DISABLE TRIGGER only to the table's owner or a superuser: the app role
of the production role split (docs/operations.md) cannot take this route.
"""

from django.db import transaction
from django.db.backends.postgresql import base, operations

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
