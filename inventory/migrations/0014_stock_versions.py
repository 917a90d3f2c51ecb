"""Stock versions: each stock record's version goes up by one with each of its ledger rows.

Ledger rows written before stay `version: null` (the ledger is append-only, never rewritten);
each stock record starts at its count of existing ledger rows, so its next row gets the next
number and reconcile_stock can check that versions are dense. Only stock records are updated.
"""

from django.db import migrations, models
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def versions_from_ledger(apps, schema_editor):
    StockRecord = apps.get_model("inventory", "StockRecord")
    StockMovement = apps.get_model("inventory", "StockMovement")
    rows = (
        StockMovement.objects.filter(product_id=OuterRef("product_id"))
        .order_by()
        .values("product_id")
        .annotate(rows=Count("id"))
        .values("rows")
    )
    StockRecord.objects.using(schema_editor.connection.alias).update(
        version=Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))
    )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0013_cycle_counts")]

    operations = [
        migrations.AddField(
            model_name="stockmovement",
            name="version",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="stockrecord",
            name="version",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.UniqueConstraint(
                condition=models.Q(("version__isnull", False)),
                fields=("product", "version"),
                name="movement_product_version",
            ),
        ),
        migrations.RunPython(versions_from_ledger, migrations.RunPython.noop, elidable=True),
    ]
