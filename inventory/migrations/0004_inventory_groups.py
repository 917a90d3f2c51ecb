"""Create the `Inventory clerks` and `Inventory managers` groups with their permissions.

The groups as they were made here; permissions added later come with their own migration
(inventory.roles holds the current ones), since this one runs before their models exist.
"""

from django.db import migrations

from techparts.roles import groups_operation

GROUP_PERMISSIONS = {
    "Inventory clerks": [
        ("inventory", "view_stockrecord"),
        ("inventory", "change_stockrecord"),
        ("inventory", "correct_stock"),
        ("catalog", "view_product"),
    ],
    "Inventory managers": [
        ("inventory", "view_stockrecord"),
        ("inventory", "change_stockrecord"),
        ("inventory", "view_stockmovement"),
        ("inventory", "export_movements"),
        ("catalog", "view_product"),
    ],
}


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0001_initial"),
        ("inventory", "0003_permissions"),
    ]

    operations = [groups_operation(GROUP_PERMISSIONS)]
