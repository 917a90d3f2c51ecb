"""Create the `Inventory clerks` and `Inventory managers` groups with their permissions.

The groups as they were at this migration (later migrations grant more, e.g. 0010): a fresh
database installs each grant when the model it names exists.
"""

from django.db import migrations

from inventory.roles import CLERKS, MANAGERS
from techparts.roles import groups_operation

FIRST_GROUP_PERMISSIONS = {
    CLERKS: [
        ("inventory", "view_stockrecord"),
        ("inventory", "change_stockrecord"),
        ("inventory", "correct_stock"),
        ("catalog", "view_product"),
    ],
    MANAGERS: [
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

    operations = [groups_operation(FIRST_GROUP_PERMISSIONS)]
