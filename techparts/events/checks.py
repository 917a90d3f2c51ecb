from django.conf import settings
from django.core import checks

MIN_RETENTION_DAYS = 30


@checks.register
def events_retention(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Integrators are promised 30 days of events: a shorter retention is a configuration error."""
    if settings.EVENTS_RETENTION_DAYS < MIN_RETENTION_DAYS:
        return [
            checks.Error(
                f"EVENTS_RETENTION_DAYS is {settings.EVENTS_RETENTION_DAYS}; events must be kept "
                f"at least {MIN_RETENTION_DAYS} days (GET /v1/events, webhook redelivery).",
                id="events.E001",
            )
        ]
    return []
