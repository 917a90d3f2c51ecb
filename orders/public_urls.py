from django.urls import path

from orders.public_views import order_tracking

urlpatterns = [
    path("track/<str:order_id>", order_tracking, name="order-tracking"),
]
