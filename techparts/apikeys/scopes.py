"""The scopes an API key can hold, and the phrase each one uses in a 403 message."""

PRODUCTS_READ = "products:read"
ORDERS_READ = "orders:read"
ORDERS_WRITE = "orders:write"
INVENTORY_READ = "inventory:read"
INVENTORY_WRITE = "inventory:write"
WEBHOOKS_WRITE = "webhooks:write"

# scope -> what a key without it may not do ("Insufficient permissions to <phrase>.")
SCOPES: dict[str, str] = {
    PRODUCTS_READ: "read products",
    ORDERS_READ: "read orders",
    ORDERS_WRITE: "create or change orders",
    INVENTORY_READ: "read inventory",
    INVENTORY_WRITE: "update inventory",
    WEBHOOKS_WRITE: "manage webhook endpoints",
}
ALL_SCOPES: list[str] = list(SCOPES)


def parse_scopes(text: str) -> list[str]:
    """Return the scopes in a comma-separated list, refusing unknown ones."""
    scopes = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ValueError(
            f"Unknown scope(s): {', '.join(unknown)}. Known scopes: {', '.join(ALL_SCOPES)}"
        )
    return list(dict.fromkeys(scopes))
