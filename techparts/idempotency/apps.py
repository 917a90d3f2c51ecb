from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "techparts.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency keys"
