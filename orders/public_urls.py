from django.urls import path

from orders.public_views import order_tracking

urlpatterns = [
    path("track/<str:order_id>/<str:token>", order_tracking, name="order-tracking"),
    # An order id without its token opens nothing; routed here so that it is rate limited
    # and answered with the tracking page's own 404.
    path("track/<str:order_id>", order_tracking, name="order-tracking-without-token"),
]
