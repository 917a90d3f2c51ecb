from django.urls import path

from inventory.views import (
    ApprovalRequestView,
    InventoryBulkView,
    InventoryChangesView,
    InventoryListView,
    InventoryMovementsView,
    InventoryView,
)

# Fixed paths come before `inventory/<str:sku>`, which would otherwise read them as SKUs. The
# words they use (`changes`, `bulk`, `approvals`) are reserved: no product's SKU can be one of them
# (catalog SKUs are upper-case letters and digits; see docs/inventory.md).
urlpatterns = [
    path("inventory", InventoryListView.as_view(), name="inventory-list"),
    path("inventory/changes", InventoryChangesView.as_view(), name="inventory-changes"),
    path("inventory/bulk", InventoryBulkView.as_view(), name="inventory-bulk"),
    path(
        "inventory/approvals/<str:public_id>",
        ApprovalRequestView.as_view(),
        name="inventory-approval",
    ),
    path("inventory/<str:sku>", InventoryView.as_view(), name="inventory-detail"),
    path(
        "inventory/<str:sku>/movements",
        InventoryMovementsView.as_view(),
        name="inventory-movements",
    ),
]
