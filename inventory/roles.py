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
