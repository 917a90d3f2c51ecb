"""Make the stock ledger append-only in the database itself, so raw SQL cannot rewrite history.

PostgreSQL only; on SQLite (local runs) the model and queryset refuse updates and deletes.
TRUNCATE is left to database privileges (the test runner empties tables with it); in
production the app's role should not own the table.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION inventory_stockmovement_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'inventory_stockmovement is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER inventory_stockmovement_no_update_delete
    BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_stockmovement_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS inventory_stockmovement_no_update_delete ON inventory_stockmovement;
DROP FUNCTION IF EXISTS inventory_stockmovement_append_only();
"""


def _run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
