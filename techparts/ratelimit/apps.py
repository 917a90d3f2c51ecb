from django.apps import AppConfig


class RateLimitConfig(AppConfig):
    name = "techparts.ratelimit"
    label = "ratelimit"
    verbose_name = "Rate limits"

    def ready(self) -> None:
        # Log admin login failures and lockouts (techparts.security). This app is installed
        # after django-axes, so these receivers run after axes has counted the failure.
        from techparts import admin_login  # noqa: F401
