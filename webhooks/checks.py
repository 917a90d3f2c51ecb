from django.conf import settings
from django.core import checks

LOOPBACK_ALLOWED = checks.Error(
    "WEBHOOKS_ALLOW_LOOPBACK is on: webhook endpoints on this machine (http://127.0.0.1 "
    "and the like) are accepted and delivered to.",
    hint="Unset WEBHOOKS_ALLOW_LOOPBACK; it is for development and tests only.",
    id="webhooks.E001",
)


@checks.register(checks.Tags.security, deploy=True)
def loopback_not_allowed(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Refuse a deployment whose webhooks may reach this machine (server-side request forgery)."""
    return [LOOPBACK_ALLOWED] if settings.WEBHOOKS_ALLOW_LOOPBACK else []
