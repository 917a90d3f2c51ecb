"""The stock overview page (a proxy of the ledger) and its permission for Inventory managers."""

from django.db import migrations

from techparts.roles import permissions_grant_operation


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("inventory", "0009_movement_unit_cost"),
    ]

    operations = [
        migrations.CreateModel(
            name="StockOverview",
            fields=[],
            options={
                "verbose_name": "stock overview",
                "verbose_name_plural": "stock overview",
                "proxy": True,
                "default_permissions": ("view",),
                "indexes": [],
                "constraints": [],
            },
            bases=("inventory.stockmovement",),
        ),
        permissions_grant_operation(
            {"Inventory managers": [("inventory", "view_stockoverview")]}
        ),
    ]
