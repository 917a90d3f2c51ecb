from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "techparts.tasks"
    label = "techparts_tasks"
    verbose_name = "Background tasks"
