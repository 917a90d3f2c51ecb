from django.db import models


class RateCounter(models.Model):
    """Requests counted in one fixed window of one bucket (a key's reads, an address's pages).

    Written only by `techparts.ratelimit.services` with one atomic upsert, so every app process
    shares the count when no Redis is configured.
    """

    bucket = models.CharField(max_length=200)
    window_start = models.BigIntegerField(help_text="Unix time the window opened.")
    count = models.PositiveIntegerField(default=0)
    expires_at = models.BigIntegerField(db_index=True, help_text="Unix time the window closes.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "window_start"], name="ratecounter_bucket_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bucket}@{self.window_start}: {self.count}"
