"""Create the `Order clerks` group, who move orders through their lifecycle in the admin."""

from django.db import migrations

from orders.roles import GROUP_PERMISSIONS
from techparts.roles import groups_operation


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0001_initial"),
        ("inventory", "0004_inventory_groups"),
    ]

    operations = [groups_operation(GROUP_PERMISSIONS)]
