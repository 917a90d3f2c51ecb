import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from techparts.apikeys.cache import api_key_changed

KEY_PREFIX = "tp"


def hash_secret(secret: str) -> str:
    # The secret is 256 bits from the OS CSPRNG, so a plain SHA-256 cannot be brute-forced;
    # a slow password hash would only add latency to every API request.
    return hashlib.sha256(secret.encode()).hexdigest()


# Changing only these fields leaves the in-process copies of a key valid.
_UNCACHED_FIELDS = {"last_used_at"}


class ApiKeyQuerySet(models.QuerySet):
    # Every ORM write of keys tells the process caches (techparts.apikeys.cache), so that a
    # change made anywhere (admin, services, commands, shell) takes effect at once.
    def update(self, **kwargs) -> int:
        if set(kwargs) <= _UNCACHED_FIELDS:
            return super().update(**kwargs)
        prefixes = list(self.values_list("prefix", flat=True))
        rows = super().update(**kwargs)
        api_key_changed(prefixes=prefixes)
        return rows

    def delete(self):
        prefixes = list(self.values_list("prefix", flat=True))
        result = super().delete()
        api_key_changed(prefixes=prefixes)
        return result

    def usable(self) -> "ApiKeyQuerySet":
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """A credential for the v1 API: `tp_<prefix>_<secret>`, only the secret's hash is stored."""

    name = models.CharField(max_length=100, help_text="What this key is for, e.g. 'ERP sync'.")
    owner = models.CharField(
        max_length=100,
        db_index=True,
        help_text="Integrator account name; reported as updated_by. "
        "Keys of the same owner see the same orders.",
    )
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    corrections_need_approval = models.BooleanField(
        default=False,
        help_text="Stock corrections by this key that cross the approval policy's thresholds "
        "wait for a manager's approval (PATCH answers 202 with the pending request; bulk "
        "items are reported 'pending_approval'). Off: they apply at once.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({KEY_PREFIX}_{self.prefix}_…)"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or not set(update_fields) <= _UNCACHED_FIELDS:
            api_key_changed(prefixes=[self.prefix])

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        api_key_changed(prefixes=[self.prefix])
        return result

    @property
    def display_prefix(self) -> str:
        return f"{KEY_PREFIX}_{self.prefix}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, hash_secret(secret))

    @staticmethod
    def generate() -> tuple[str, str]:
        """Return a fresh (prefix, secret) pair."""
        return secrets.token_hex(4), secrets.token_urlsafe(32)
