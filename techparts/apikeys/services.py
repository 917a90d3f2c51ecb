import re
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from techparts.apikeys.cache import cached_key_row
from techparts.apikeys.models import KEY_PREFIX, ApiKey, hash_secret
from techparts.apikeys.scopes import SCOPES
from techparts.apikeys.signals import api_key_revoked, api_key_scopes_reduced


def format_key(prefix: str, secret: str) -> str:
    return f"{KEY_PREFIX}_{prefix}_{secret}"


KEY_SHAPE = re.compile(rf"^{KEY_PREFIX}_([0-9a-f]{{8}})_([A-Za-z0-9_-]{{20,128}})$")


def split_key(raw: str) -> tuple[str, str] | None:
    """Return (prefix, secret) of a key string, or None when it is not shaped like a key.

    Checked before any query, so junk never reaches the database.
    """
    match = KEY_SHAPE.match(raw)
    return (match.group(1), match.group(2)) if match else None


@transaction.atomic
def api_key_create(
    *,
    name: str,
    owner: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    created_by: AbstractBaseUser | None = None,
    corrections_need_approval: bool = False,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its full text, which is never retrievable again.

    `corrections_need_approval`: its stock corrections over the approval thresholds wait for
    a manager (inventory.approvals) instead of applying at once.
    """
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"Unknown scope(s): {', '.join(unknown)}")
    prefix, secret = ApiKey.generate()
    key = ApiKey.objects.create(
        name=name,
        owner=owner,
        scopes=list(dict.fromkeys(scopes)),
        prefix=prefix,
        secret_hash=hash_secret(secret),
        expires_at=expires_at,
        created_by=created_by,
        corrections_need_approval=corrections_need_approval,
    )
    return key, format_key(prefix, secret)


@transaction.atomic
def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke a key at once; requests with it are refused from now on.

    What hangs on the key follows in the same transaction (`api_key_revoked`: the webhook
    endpoints it created are disabled).
    """
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        api_key_revoked.send(sender=ApiKey, key=key, now=key.revoked_at)
    return key


@transaction.atomic
def api_key_update(
    *,
    key: ApiKey,
    name: str,
    owner: str,
    scopes: list[str],
    expires_at: datetime | None,
    corrections_need_approval: bool | None = None,
) -> ApiKey:
    """Change a key's name, owner, scopes, expiry and (when given) whether its corrections
    need approval; return it.

    A key that loses scopes tells what depends on them in the same transaction
    (`api_key_scopes_reduced`: webhook endpoints subscribed to types it can no longer read
    are disabled).
    """
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"Unknown scope(s): {', '.join(unknown)}")
    before = ApiKey.objects.select_for_update().values_list("scopes", flat=True).get(pk=key.pk)
    key.name, key.owner, key.expires_at = name, owner, expires_at
    key.scopes = list(dict.fromkeys(scopes))
    fields = ["name", "owner", "scopes", "expires_at"]
    if corrections_need_approval is not None:
        key.corrections_need_approval = corrections_need_approval
        fields.append("corrections_need_approval")
    key.save(update_fields=fields)
    removed = [scope for scope in before if scope not in key.scopes]
    if removed:
        api_key_scopes_reduced.send(sender=ApiKey, key=key, removed=removed, now=timezone.now())
    return key


def api_key_authenticate(*, raw: str) -> ApiKey | None:
    """Return the usable key matching the full key text, or None.

    The key's row comes from process memory while it is current (techparts.apikeys.cache);
    the secret is checked against its hash on every request all the same.
    """
    parts = split_key(raw)
    if parts is None:
        return None
    prefix, secret = parts
    row = cached_key_row(prefix, _load_key_row)
    if row is None:
        return None
    # A fresh instance per request: nothing a request does to it reaches another request.
    key = ApiKey(**{**row, "scopes": list(row["scopes"])})
    key._state.adding = False
    key._state.db = "default"
    if not key.matches(secret) or not key.is_usable:
        return None
    _touch_last_used(key)
    return key


def _load_key_row(prefix: str) -> dict | None:
    return ApiKey.objects.filter(prefix=prefix).values(*_KEY_FIELDS).first()


_KEY_FIELDS = [field.attname for field in ApiKey._meta.concrete_fields]
# prefix -> when this process last wrote the key's last-used time (monotonic seconds)
_last_touched: dict[str, float] = {}


def _touch_last_used(key: ApiKey) -> None:
    # Written at most once per interval so that busy keys do not turn every read into a write:
    # each process checks its own memory first, and the conditional UPDATE keeps the database
    # written at most once per interval whatever the number of processes.
    interval = settings.API_KEY_LAST_USED_INTERVAL
    now = timezone.now()
    if key.last_used_at is not None and (now - key.last_used_at).total_seconds() < interval:
        return
    touched = _last_touched.get(key.prefix)
    if touched is not None and time.monotonic() - touched < interval:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(seconds=interval))
    ).update(last_used_at=now)
    _last_touched[key.prefix] = time.monotonic()
    key.last_used_at = now
