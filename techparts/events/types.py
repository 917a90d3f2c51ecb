"""The event types, and which API scope may read each (docs/webhooks.md has the catalogue)."""

from techparts.apikeys.scopes import INVENTORY_READ, ORDERS_READ

INVENTORY_CHANGED = "inventory.changed"
INVENTORY_LOW_STOCK = "inventory.low_stock"
INVENTORY_OUT_OF_STOCK = "inventory.out_of_stock"
INVENTORY_BACK_IN_STOCK = "inventory.back_in_stock"
# A correction that waited for two-person approval was approved or rejected (its requester's
# owner only, like order.*).
INVENTORY_APPROVAL_DECIDED = "inventory.approval_decided"
ORDER_CREATED = "order.created"
ORDER_CANCELLED = "order.cancelled"
ORDER_SHIPPED = "order.shipped"
ORDER_DELIVERED = "order.delivered"

INVENTORY_TYPES = (
    INVENTORY_CHANGED,
    INVENTORY_LOW_STOCK,
    INVENTORY_OUT_OF_STOCK,
    INVENTORY_BACK_IN_STOCK,
    INVENTORY_APPROVAL_DECIDED,
)
ORDER_TYPES = (ORDER_CREATED, ORDER_CANCELLED, ORDER_SHIPPED, ORDER_DELIVERED)
ALL_TYPES = (*INVENTORY_TYPES, *ORDER_TYPES)

# inventory.* is about stock every integrator with the scope may read; order.* and
# inventory.approval_decided go to their owner only (Event.audience_owner).
READ_SCOPE = {
    **dict.fromkeys(INVENTORY_TYPES, INVENTORY_READ),
    **dict.fromkeys(ORDER_TYPES, ORDERS_READ),
}
