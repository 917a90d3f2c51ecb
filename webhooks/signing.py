"""Signing deliveries the Standard Webhooks way (standardwebhooks.com), as receivers verify them.

Three headers: `webhook-id` (the event's id: the same in every attempt, so a receiver can drop
duplicates), `webhook-timestamp` (integer seconds of this attempt: every attempt is signed
afresh, since receivers refuse timestamps more than 5 minutes old) and `webhook-signature`,
one `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per secret, space-separated: during a
secret rotation's overlap both the new and the old secret sign.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)


def secret_key(secret: str) -> bytes:
    """Return the HMAC key of a `whsec_<base64>` secret: its base64 part, decoded."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "==")  # receivers' libraries accept unpadded too
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def signature(*, secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """Return one `v1,<base64>` signature of `body` sent as `webhook_id` at `timestamp`."""
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    *, webhook_id: str, body: bytes, secrets: Sequence[str], now: datetime
) -> dict[str, str]:
    """Return the Standard Webhooks headers of one attempt at `now`, signed with each secret."""
    if not secrets:
        raise ValueError("a delivery needs at least one secret to sign with")
    timestamp = int(now.timestamp())
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=secret, webhook_id=webhook_id, timestamp=timestamp, body=body)
            for secret in secrets
        ),
    }
