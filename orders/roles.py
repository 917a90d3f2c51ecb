"""The back-office role for orders: clerks who ship, deliver and cancel them in the admin."""

ORDER_CLERKS = "Order clerks"

GROUP_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    ORDER_CLERKS: [
        ("orders", "view_order"),
        ("orders", "change_order"),  # the ship / deliver / cancel actions; money stays read-only
        ("orders", "view_customer"),
        ("orders", "view_taxrate"),
    ],
}
