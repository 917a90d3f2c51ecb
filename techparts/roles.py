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


def _create_permissions(apps) -> None:
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None


def install_groups(apps, groups: Groups) -> None:
    """For data migrations: create the permissions now, then the groups that hold them.

    Django creates permissions after all migrations (post_migrate), too late for a group
    made by a migration, custom permissions included.
    """
    _create_permissions(apps)
    ensure_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), groups)


def groups_operation(groups: Groups) -> migrations.RunPython:
    """Return the data-migration operation that installs `groups` (and removes them on reverse)."""

    def create(apps, schema_editor):
        install_groups(apps, groups)

    def remove(apps, schema_editor):
        apps.get_model("auth", "Group").objects.filter(name__in=list(groups)).delete()

    return migrations.RunPython(create, remove)


def grants_operation(grants: Groups) -> migrations.RunPython:
    """Return the data-migration operation that adds permissions to existing groups (and takes
    them away on reverse), leaving the groups' other permissions as they are.

    A migration that adds a model gives its permissions to the roles with this, listing them
    as they are at that migration: an earlier migration's groups are not changed by it, so
    every migration keeps installing what existed at its time.
    """

    def grant(apps, schema_editor):
        _create_permissions(apps)
        _change_grants(apps, grants, add=True)

    def revoke(apps, schema_editor):
        _change_grants(apps, grants, add=False)

    return migrations.RunPython(grant, revoke)


def _change_grants(apps, grants: Groups, *, add: bool) -> None:
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, wanted in grants.items():
        group, _ = group_model.objects.get_or_create(name=name)
        permissions = [
            permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in wanted
        ]
        (group.permissions.add if add else group.permissions.remove)(*permissions)
