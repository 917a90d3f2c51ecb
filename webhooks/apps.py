from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # checks registers the system check, hooks the sweep hooks.
        from webhooks import checks, hooks, receivers, triggers  # noqa: F401

        receivers.connect()
        triggers.connect()
