from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "techparts.events"
    label = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        from techparts.events import (
            checks,  # noqa: F401 (registers the system check)
            hooks,  # noqa: F401 (registers the sweep hook)
        )
