"""Webhook endpoints: where an integrator (an API key owner) wants its events delivered."""

from datetime import datetime

from django.conf import settings
from django.db import models

from techparts.apikeys.models import ApiKey
from webhooks import crypto


class WebhookEndpoint(models.Model):
    public_id = models.CharField(max_length=40, unique=True, editable=False)  # we_...
    owner = models.CharField(
        max_length=100, db_index=True, help_text="The API key owner whose events it receives."
    )
    url = models.URLField(max_length=2000)
    event_types = models.JSONField(default=list, help_text="The event types it subscribes to.")
    enabled = models.BooleanField(default=True)
    description = models.CharField(max_length=500, blank=True, default="")
    # The key that created it (its scopes bound the subscription; revoking it disables the
    # endpoint), or the staff member who did.
    created_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    # whsec_... secrets, encrypted (webhooks.crypto). After a rotation the previous secret
    # keeps signing until previous_secret_expires_at.
    secret = models.TextField(editable=False)
    previous_secret = models.TextField(blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Why it was disabled by the system (410 Gone, failing for days, key revoked); "" if not.
    disabled_reason = models.CharField(max_length=200, blank=True, default="", editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Start of the current run of failed attempts; None while deliveries succeed.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook endpoint"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.public_id} {self.url}"

    def signing_secrets(self, now: datetime) -> list[str]:
        """Return the plaintext secrets a delivery at `now` is signed with, current first."""
        secrets = [crypto.unseal(self.secret)]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and now < self.previous_secret_expires_at
        ):
            secrets.append(crypto.unseal(self.previous_secret))
        return secrets


class Delivery(models.Model):
    """One event to one endpoint: pending until an attempt succeeds or the schedule runs out.

    A worker claims a due delivery by setting `locked_until` (its lease) in the claiming
    statement; a worker that dies leaves the lease to expire, and the delivery is claimed
    again. For one endpoint, deliveries about one subject go out in `id` order (the order of
    the event feed): a later one waits while an earlier one is pending.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"  # gave up: the retry schedule ran out, or the endpoint is gone

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=120)  # the event's, copied: the ordering key
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A redelivery asked for by staff (the admin), and by whom.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["endpoint", "subject", "id"],
                name="delivery_subject_queue",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_log"),
            # The log is pruned by age (webhooks.delivery.deliveries_prune).
            models.Index(
                fields=["finished_at"],
                name="delivery_finished",
                condition=~models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} of event {self.event_id} to {self.endpoint_id}"


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery, kept for the delivery log."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # The first 1 KB of the answer, and what went wrong when there was no answer.
    response_excerpt = models.TextField(blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    succeeded = models.BooleanField()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="delivery_attempt_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"


class FanOutCursor(models.Model):
    """How far deliveries have been created from the event feed: one row, its position.

    The position is an event's (xact, id), the gap-free order of techparts.database.positions:
    every event after it is yet to be fanned out. The fan-out locks this row, so one runs at a
    time, whichever worker or machine it is on.
    """

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK)
    xact = models.BigIntegerField(default=0)
    event_pk = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "fan-out cursor"

    def __str__(self) -> str:
        return f"fanned out up to ({self.xact}, {self.event_pk})"

    @property
    def position(self) -> tuple[int, int]:
        return (self.xact, self.event_pk)


class FannedOutAhead(models.Model):
    """An event the fan-out has already delivered ahead of the FanOutCursor.

    One stock record's events are delivered in version order, but the feed is in (xact, id)
    order: a transaction takes its id at its first write or lock, so a change that committed
    earlier (a lower version) can sit after a later one in the feed. Reaching version v of a
    subject, the fan-out first fans out every lower version not yet passed and marks it here;
    when the cursor reaches a marked event, it is skipped and the mark removed.
    """

    event = models.OneToOneField(
        "events.Event", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    class Meta:
        verbose_name = "event fanned out ahead"
        verbose_name_plural = "events fanned out ahead"

    def __str__(self) -> str:
        return f"event {self.event_id} fanned out ahead of the cursor"
