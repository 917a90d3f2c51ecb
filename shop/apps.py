from django.apps import AppConfig


class ShopConfig(AppConfig):
    """The top layer: composes catalog, inventory and orders (see docs/architecture.md)."""

    name = "shop"

    def ready(self) -> None:
        from shop.floor import checks  # noqa: F401 (registers the deploy check)
