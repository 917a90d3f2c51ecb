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


def permissions_grant_operation(grants: Groups) -> migrations.RunPython:
    """Return the data-migration operation that adds permissions to existing groups.

    For a permission that comes after the migration that made the group: forwards, it is
    created (with every other pending one) and added to each group; backwards, taken away.
    """

    def grant(apps, schema_editor):
        from django.contrib.auth.management import create_permissions

        for app_config in apps.get_app_configs():
            app_config.models_module = True
            create_permissions(app_config, verbosity=0)
            app_config.models_module = None
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
        for name, wanted in grants.items():
            group, _ = group_model.objects.get_or_create(name=name)
            group.permissions.add(*_permissions(permission_model, wanted))

    def revoke(apps, schema_editor):
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
        for name, wanted in grants.items():
            for group in group_model.objects.filter(name=name):
                group.permissions.remove(*_permissions(permission_model, wanted))

    return migrations.RunPython(grant, revoke)


def _permissions(permission_model, wanted: list[tuple[str, str]]) -> list:
    return [
        permission_model.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in wanted
    ]
