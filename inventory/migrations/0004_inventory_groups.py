"""Create the `Inventory clerks` and `Inventory managers` groups with their permissions."""

from django.db import migrations

from inventory.roles import GROUP_PERMISSIONS
from techparts.roles import groups_operation


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0001_initial"),
        ("inventory", "0003_permissions"),
    ]

    operations = [groups_operation(GROUP_PERMISSIONS)]
