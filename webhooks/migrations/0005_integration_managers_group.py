"""Create the `Integration managers` group, who manage webhook endpoints in the admin."""

from django.db import migrations

from techparts.roles import groups_operation
from webhooks.roles import GROUP_PERMISSIONS


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("webhooks", "0004_delivery_fan_out"),
    ]

    operations = [groups_operation(GROUP_PERMISSIONS)]
