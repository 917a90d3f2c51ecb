"""The back-office roles for stock, as Django groups with their permissions.

Used by the data migration (with historical models) and by tests and set-up code (with the
real ones), so the groups are defined in one place.
"""

CLERKS = "Inventory clerks"
MANAGERS = "Inventory managers"

# group -> (app_label, codename) pairs it holds
GROUP_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    CLERKS: [
        ("inventory", "view_stockrecord"),
        ("inventory", "change_stockrecord"),  # the low-stock threshold only
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


def ensure_groups(
    group_model, permission_model, groups: dict[str, list[tuple[str, str]]] | None = None
) -> None:
    """Create the groups if missing and give each exactly its permissions.

    `groups` defaults to the inventory roles; other apps pass their own (orders.roles).
    """
    for name, wanted in (GROUP_PERMISSIONS if groups is None else groups).items():
        group, _ = group_model.objects.get_or_create(name=name)
        permissions = [
            permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in wanted
        ]
        group.permissions.set(permissions)


def install_groups(apps, groups: dict[str, list[tuple[str, str]]] | None = None) -> None:
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
