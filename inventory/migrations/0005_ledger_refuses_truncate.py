"""Refuse TRUNCATE of the stock ledger in PostgreSQL, as UPDATE and DELETE already are.

A statement-level trigger, so it also fires when the ledger is emptied through a cascade
(`TRUNCATE catalog_product CASCADE`). The only way past it is the table owner's or a superuser's:
`manage.py flush` (and the test runner's flush) disables it inside its own transaction
(techparts.database.postgresql); see docs/operations.md.
"""

from django.db import migrations

CREATE = """
CREATE TRIGGER inventory_stockmovement_no_truncate
    BEFORE TRUNCATE ON inventory_stockmovement
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_stockmovement_append_only();
"""

DROP = "DROP TRIGGER IF EXISTS inventory_stockmovement_no_truncate ON inventory_stockmovement;"


def _run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_inventory_groups")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
