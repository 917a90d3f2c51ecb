"""The back-office roles for stock, as Django groups with their permissions.

GROUP_PERMISSIONS is what each group holds now: tests and set-up code install it
(techparts.roles.ensure_groups). Migrations install what existed at their time: 0004 the first
groups (its own copy), 0012 the approval grants (APPROVAL_PERMISSIONS), so a fresh database
never asks for a permission whose model a later migration creates.
"""

CLERKS = "Inventory clerks"
MANAGERS = "Inventory managers"

# Two-person approval (migration 0012, inventory.approvals): clerks follow their own requests;
# managers approve or reject others' and set the policy's thresholds.
APPROVAL_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    CLERKS: [("inventory", "view_approvalrequest")],
    MANAGERS: [
        ("inventory", "view_approvalrequest"),
        ("inventory", "approve_correction"),
        ("inventory", "view_approvalpolicy"),
        ("inventory", "change_approvalpolicy"),
    ],
}

# group -> (app_label, codename) pairs it holds
GROUP_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    CLERKS: [
        ("inventory", "view_stockrecord"),
        ("inventory", "change_stockrecord"),  # the low-stock threshold only
        ("inventory", "correct_stock"),
        ("inventory", "count_stock"),  # cycle counts assigned to them
        ("catalog", "view_product"),
        *APPROVAL_PERMISSIONS[CLERKS],
    ],
    MANAGERS: [
        ("inventory", "view_stockrecord"),
        ("inventory", "change_stockrecord"),
        ("inventory", "view_stockmovement"),
        ("inventory", "export_movements"),
        ("inventory", "manage_counts"),  # create, review, post cycle counts
        ("inventory", "view_stockoverview"),
        ("catalog", "view_product"),
        *APPROVAL_PERMISSIONS[MANAGERS],
    ],
}
