from django.urls import path

from shop.floor import views

# Mounted under /bench/floor/ by techparts/urls.py only when BENCH_FLOOR_VIEWS is on.
urlpatterns = [
    path("products/<str:public_id>", views.product_detail, name="floor-product-detail"),
    path("products", views.product_list, name="floor-product-list"),
    path("inventory", views.inventory_list, name="floor-inventory-list"),
    path("inventory/changes", views.inventory_changes, name="floor-inventory-changes"),
    path("inventory/<str:sku>", views.stock_set, name="floor-stock-set"),
    path("orders", views.order_create, name="floor-order-create"),
]
