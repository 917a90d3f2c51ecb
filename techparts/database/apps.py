from django.apps import AppConfig


class DatabaseConfig(AppConfig):
    name = "techparts.database"
    label = "techparts_database"
    verbose_name = "Database roles"
