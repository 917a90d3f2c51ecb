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
