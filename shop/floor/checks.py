from django.conf import settings
from django.core import checks

FLOOR_VIEWS_ON = checks.Error(
    "BENCH_FLOOR_VIEWS is on: the unauthenticated bench floor views are routed.",
    hint="Unset BENCH_FLOOR_VIEWS; only `make bench` turns it on.",
    id="shop.E001",
)


@checks.register(checks.Tags.security, deploy=True)
def floor_views_off(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Refuse a deployment that serves the bench floor views."""
    return [FLOOR_VIEWS_ON] if settings.BENCH_FLOOR_VIEWS else []
