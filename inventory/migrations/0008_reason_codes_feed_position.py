"""Reason codes, adjustment groups and the change feed's position on every ledger row.

Rows written before this migration get reason code `unspecified`, no adjustment group, and the
migration's own transaction id as their feed position (so the feed lists them first, in id
order). The ledger is not rewritten: on SQLite, where changing a column copies the table, the
copy keeps old rows as they are (as 0006 does), even those from before the on-hand range.
"""

import inventory.models
from django.conf import settings
from django.db import migrations, models


def keep_history_as_is(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("PRAGMA ignore_check_constraints = ON", params=None)


def check_new_rows(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("PRAGMA ignore_check_constraints = OFF", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('apikeys', '0001_initial'),
        ('catalog', '0004_product_active_by_category_index'),
        ('inventory', '0007_ledger_newest_first_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(keep_history_as_is, migrations.RunPython.noop, elidable=False),
        migrations.AddField(
            model_name='stockmovement',
            name='adjustment_group',
            field=models.UUIDField(blank=True, db_index=True, null=True),
        ),
        migrations.AddField(
            model_name='stockmovement',
            name='reason_code',
            field=models.CharField(choices=[('received', 'Received'), ('correction', 'Correction'), ('cycle_count', 'Cycle count'), ('damaged', 'Damaged'), ('shrinkage', 'Shrinkage'), ('returned', 'Returned'), ('theft', 'Theft'), ('other', 'Other'), ('order', 'Order'), ('opening', 'Opening balance'), ('unspecified', 'Unspecified')], db_default='unspecified', max_length=16),
        ),
        migrations.AddField(
            model_name='stockmovement',
            name='xact',
            field=models.BigIntegerField(db_default=inventory.models.WritingTransaction(), editable=False),
        ),
        migrations.AlterField(
            model_name='stockmovement',
            name='reference',
            field=models.CharField(blank=True, db_index=True, max_length=500),
        ),
        migrations.AddIndex(
            model_name='stockmovement',
            index=models.Index(fields=['xact', 'id'], name='movement_feed_position'),
        ),
        migrations.RunPython(check_new_rows, migrations.RunPython.noop, elidable=False),
    ]
