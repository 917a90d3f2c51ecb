"""The back-office roles for stock, as Django groups with their permissions.

Installed by the data migration (techparts.roles.install_groups, with historical models) and
by tests and set-up code (techparts.roles.ensure_groups), so the groups are defined in one place.
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
        ("inventory", "view_stockoverview"),
        ("catalog", "view_product"),
    ],
}
