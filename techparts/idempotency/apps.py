from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "techparts.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency keys"

    def ready(self) -> None:
        from techparts.idempotency import hooks  # noqa: F401 (registers the sweep hook)
