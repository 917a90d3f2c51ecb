"""Back-office roles as Django groups: each app declares its groups, this installs them.

An app's `roles.py` maps each group name to the (app_label, codename) permissions it holds;
its data migration runs `groups_operation(<that map>)` (inventory.roles, orders.roles).
"""

from django.db import migrations

Groups = dict[str, list[tuple[str, str]]]


def ensure_groups(group_model, permission_model, groups: Groups) -> None:
    """Create the groups if missing and give each exactly its permissions."""
    for name, wanted in groups.items():
        group, _ = group_model.objects.get_or_create(name=name)
        permissions = [
            permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in wanted
        ]
        group.permissions.set(permissions)


def install_groups(apps, groups: Groups) -> None:
    """For data migrations: create the permissions now, then the groups that hold them.

    Django creates permissions after all migrations (post_migrate), too late for a group
    made by a migration, custom permissions included.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    ensure_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), groups)


def groups_operation(groups: Groups) -> migrations.RunPython:
    """Return the data-migration operation that installs `groups` (and removes them on reverse)."""

    def create(apps, schema_editor):
        install_groups(apps, groups)

    def remove(apps, schema_editor):
        apps.get_model("auth", "Group").objects.filter(name__in=list(groups)).delete()

    return migrations.RunPython(create, remove)
