from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"

    def ready(self):
        from inventory import hooks  # noqa: F401 (registers the sweep hook)
