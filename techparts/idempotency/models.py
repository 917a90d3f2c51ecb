from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an `Idempotency-Key`, replayed to retries.

    Written in the same transaction as the action it answers (techparts.idempotency.services),
    so a row exists exactly when that action committed.
    """

    api_key = models.ForeignKey("apikeys.ApiKey", on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField(blank=True, help_text="The rendered JSON body.")
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.response_status})"
