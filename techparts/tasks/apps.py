from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "techparts.tasks"
    label = "techparts_tasks"
    verbose_name = "Background tasks"

    def ready(self) -> None:
        from techparts.tasks import hooks  # noqa: F401 (registers the sweep hooks)
