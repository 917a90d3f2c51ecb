from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from webhooks import hooks, triggers  # noqa: F401 (hooks registers the sweep hooks)

        triggers.connect()
