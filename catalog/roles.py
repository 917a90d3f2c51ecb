"""The back-office role for the catalog, as a Django group with its permissions.

Installed by the data migration (techparts.roles.groups_operation) and by tests
(techparts.roles.ensure_groups), so the group is defined in one place.
"""

MANAGERS = "Catalog managers"
# Changing a product's unit cost (which values every stock movement from then on) is this
# group's and superusers' alone; everyone else sees the cost read-only.
CHANGE_COST = "catalog.change_product_cost"

# group -> (app_label, codename) pairs it holds
GROUP_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    MANAGERS: [
        ("catalog", "view_category"),
        ("catalog", "add_category"),
        ("catalog", "change_category"),
        ("catalog", "view_product"),
        ("catalog", "add_product"),
        ("catalog", "change_product"),
        ("catalog", "change_product_cost"),
        ("catalog", "view_productcostchange"),
    ],
}
