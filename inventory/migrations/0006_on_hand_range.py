"""Keep on-hand counts within 0-9999 in the database too; the stock services enforce it first.

Stock records must already be in range. If one is not, the migration stops and names it, and a
clerk corrects it to at most 9999 (a correction down into the range is allowed) before
migrating again: stock is never changed behind anyone's back.

Ledger rows are history and cannot be rewritten (append-only), so the ledger's CHECK holds for
rows written from now on: on PostgreSQL it is added NOT VALID (existing rows are not
re-checked; every new or changed row is), and on SQLite the table copy that adds it keeps the
old rows as they are.
"""

from django.db import migrations, models

MAX_ON_HAND = 9999


def refuse_out_of_range_stock(apps, schema_editor):
    StockRecord = apps.get_model("inventory", "StockRecord")
    over = list(
        StockRecord.objects.filter(on_hand__gt=MAX_ON_HAND)
        .order_by("product__sku")
        .values_list("product__sku", "on_hand")[:20]
    )
    if over:
        listed = ", ".join(f"{sku} ({on_hand})" for sku, on_hand in over)
        raise RuntimeError(
            f"Stock records hold more than {MAX_ON_HAND} units on hand: {listed}. Correct each "
            f"to at most {MAX_ON_HAND} (admin: Stock levels > Correct stock, or PATCH "
            "/v1/inventory/<sku>), then run migrate again."
        )


class AddConstraintForNewRows(migrations.AddConstraint):
    """Add a CHECK that rows written from now on must pass; rows already there stay as they are."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            sql = self.constraint.create_sql(model, schema_editor)
            schema_editor.execute(f"{sql} NOT VALID", params=None)
        elif vendor == "sqlite":
            # SQLite adds a constraint by copying the table; the copy must keep old history.
            schema_editor.execute("PRAGMA ignore_check_constraints = ON", params=None)
            try:
                super().database_forwards(app_label, schema_editor, from_state, to_state)
            finally:
                schema_editor.execute("PRAGMA ignore_check_constraints = OFF", params=None)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0005_ledger_refuses_truncate")]

    operations = [
        migrations.RunPython(refuse_out_of_range_stock, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="stockrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(on_hand__lte=MAX_ON_HAND), name="stock_on_hand_lte_max"
            ),
        ),
        AddConstraintForNewRows(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(on_hand_after__lte=MAX_ON_HAND),
                name="movement_on_hand_after_lte_max",
            ),
        ),
    ]
