from rest_framework.routers import SimpleRouter

from webhooks.views import WebhookEndpointViewSet

router = SimpleRouter(trailing_slash=False)
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = router.urls
