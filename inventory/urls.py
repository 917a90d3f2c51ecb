from django.urls import path

from inventory.views import InventoryMovementsView, InventoryView

urlpatterns = [
    path("inventory/<str:sku>", InventoryView.as_view(), name="inventory-detail"),
    path(
        "inventory/<str:sku>/movements",
        InventoryMovementsView.as_view(),
        name="inventory-movements",
    ),
]
