from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "techparts.events"
    label = "events"
    verbose_name = "Events"
