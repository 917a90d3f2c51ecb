"""Create the `Inventory clerks` and `Inventory managers` groups with their permissions."""

from django.db import migrations

from inventory.roles import GROUP_PERMISSIONS
from techparts.roles import install_groups


def create_groups(apps, schema_editor):
    install_groups(apps, GROUP_PERMISSIONS)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(GROUP_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0001_initial"),
        ("inventory", "0003_permissions"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
