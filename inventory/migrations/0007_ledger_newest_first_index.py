"""Index the ledger by (created_at, id) newest first, in place of the index on created_at alone.

The stock-history export reads the ledger in keyset chunks (`ORDER BY created_at DESC, id DESC
LIMIT n` after the last row read). With only created_at indexed, PostgreSQL sorts every row
left for each chunk whenever its statistics are stale (after a bulk insert, until autovacuum
analyzes the table), so an export of N rows costs N^2; with the whole order indexed, each chunk
reads its n rows off the index and stops. The new index serves every query the old one did
(created_at is its first column), so ledger inserts keep the same number of indexes.

The old index is dropped by name rather than by altering the field: on SQLite that would copy
the table, and the copy refuses old ledger rows the newer CHECKs do not allow (0006).
"""

from django.db import migrations, models

# Django's name for the index of created_at's db_index=True (the same on every backend).
OLD_INDEX = "inventory_stockmovement_created_at_05b478ed"


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0006_on_hand_range"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="stockmovement",
            index=models.Index(fields=["-created_at", "-id"], name="movement_newest_first"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="stockmovement",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX "{OLD_INDEX}"',
                    reverse_sql=(
                        f'CREATE INDEX "{OLD_INDEX}" ON "inventory_stockmovement" ("created_at")'
                    ),
                ),
            ],
        ),
    ]
